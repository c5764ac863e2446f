namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Ancestral DPM-Solver-2 in k-diffusion's form (<c>sample_dpm_2_ancestral</c>, Crowson): each step splits the target
/// level as Euler ancestral does, sigma_{i+1}^2 = sigma_down^2 + sigma_up^2, takes the DPM-Solver-2 midpoint step from
/// sigma_i to sigma_down, and adds fresh noise sigma_up * z.
/// Follows diffusers 0.40 <c>schedulers/scheduling_k_dpm_2_ancestral_discrete.py</c> (KDPM2AncestralDiscreteScheduler).
/// </summary>
/// <remarks>
/// The loop visits t_0, t_mid(0), t_1, t_mid(1), t_2, ... (2N - 1 entries); the second stage of each step draws the
/// noise (pass it as <c>noise</c> to reproduce a run).
/// </remarks>
public sealed class KDPM2AncestralDiscreteScheduler : KDPM2SchedulerBase
{
    float[] sigmasInterpol = [], sigmasUp = [], sigmasDown = [];

    /// <summary>The configuration this scheduler was built from.</summary>
    public override KDPM2AncestralDiscreteSchedulerConfig Config { get; }

    /// <exception cref="ArgumentException">An option value is not defined, prediction_type is sample, more than one use_*_sigmas flag is set, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public KDPM2AncestralDiscreteScheduler(KDPM2AncestralDiscreteSchedulerConfig? config = null)
        : base(config ??= new()) => Config = config;

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static KDPM2AncestralDiscreteScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<KDPM2AncestralDiscreteSchedulerConfig>(path));

    /// <summary>
    /// Picks N timesteps by <c>timestep_spacing</c> and their sigmas (respaced when a use_*_sigmas flag asks), the
    /// ancestral split of each step, the midpoints between sigma_i and sigma_down, and interleaves them all.
    /// </summary>
    private protected override void BuildSchedule(int n, int? numInferenceSteps)
    {
        var (sigmas, timesteps) = InferenceLevels(n, kdpm2Timesteps: true);

        // The ancestral split of the step from sigma_i to sigma_{i+1} (float32, as diffusers' tensors); NaN for the last entry.
        var up = new float[n + 1];
        var down = new float[n + 1];
        for (int i = 0; i <= n; i++)
        {
            float s = sigmas[i], next = i < n ? sigmas[i + 1] : 0f;
            up[i] = MathF.Sqrt(next * next * (s * s - next * next) / (s * s));
            down[i] = i < n ? MathF.Sqrt(next * next - up[i] * up[i]) : 0f;
        }
        // sigma_mid(i) = sqrt(sigma_i sigma_down(i)); the last two are 0 (the final steps have no midpoint).
        var interpol = LogMidpoints(sigmas, down);
        interpol[^1] = interpol[^2] = 0f;
        var midTimesteps = MidpointTimesteps(interpol);

        // t_0, then (t_mid(i - 1), t_i) for i = 1 .. N - 1.
        var schedule = new List<double> { timesteps[0] };
        for (int i = 1; i < n; i++) { schedule.Add(midTimesteps[i - 1]); schedule.Add(timesteps[i]); }
        SetSchedule(Interleave(sigmas), schedule, numInferenceSteps);
        sigmasInterpol = Interleave(interpol);
        sigmasUp = Interleave(up);
        sigmasDown = Interleave(down);
    }

    private protected override float ModelInputSigma(int index) => StateInFirstOrder ? sigmas[index] : sigmasInterpol[index - 1];

    /// <summary>
    /// One stage of an ancestral DPM-Solver-2 step: the first goes from x_i at sigma_i to the midpoint,
    /// x_mid = x_i + (sigma_mid - sigma_i) d_i; the second evaluates d_mid = (x_mid - D(x_mid; sigma_mid)) / sigma_mid
    /// and returns x_{i+1} = x_i + (sigma_down - sigma_i) d_mid + sigma_up z.
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="SigmaSpaceScheduler.Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) the current sample: x_i in the first stage, x_mid in the second.</param>
    /// <param name="noise">(B, C, H, W) the standard normal z of a second stage (ignored in a first stage); drawn when null.</param>
    /// <param name="generator">Source of drawn noise when <paramref name="noise"/> is null.</param>
    /// <exception cref="InvalidOperationException"><see cref="SigmaSpaceScheduler.SetTimesteps"/> has not been called, or the schedule is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ, both noise and generator given, or the first timestep is not in the schedule.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        int i = BeginStep(modelOutput, timestep, sample, noise, generator);
        using var scope = torch.NewDisposeScope();
        bool first = StateInFirstOrder;
        // The first stage at entry i reads its own step's levels; the second reads them one entry back.
        int level = first ? i : i - 1;
        float sigma = sigmas[level], sigmaInterpol = sigmasInterpol[level];

        // 1. The denoised estimate at the stage's level (sigma_i, or sigma_mid).
        var predOriginalSample = PredictOriginalSample(Config.PredictionType, modelOutput, sample, first ? sigma : sigmaInterpol);

        // 2. The DPM-Solver-2 stage, the full step ending at sigma_down; then the second stage adds the fresh noise.
        var prevSample = MidpointStage(sample, predOriginalSample, sigma, sigmaInterpol, sigmasDown[level]);
        if (!first) prevSample = prevSample + NoiseOrDraw(noise, modelOutput, generator) * sigmasUp[level];

        EndStep();
        return new SchedulerOutput(NoiseSchedule.Escape(prevSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }
}
