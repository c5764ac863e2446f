namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The second-order DPM-Solver-2 step in k-diffusion's form (<c>sample_dpm_2</c>, Crowson; Karras et al. 2022,
/// https://arxiv.org/abs/2206.00364, Algorithm 1 with the midpoint rule): an Euler step to the geometric midpoint
/// sigma_mid = sqrt(sigma_i sigma_{i+1}), then the full step with the derivative taken there.
/// Follows diffusers 0.40 <c>schedulers/scheduling_k_dpm_2_discrete.py</c> (KDPM2DiscreteScheduler).
/// </summary>
/// <remarks>
/// The loop visits t_0, t_mid(1), t_1, t_mid(2), t_2, ... (2N - 1 entries): the second stage of each step runs the
/// model at the midpoint level's fractional timestep. The sigma table is interleaved to match.
/// </remarks>
public sealed class KDPM2DiscreteScheduler : KDPM2SchedulerBase
{
    float[] sigmasInterpol = [];

    /// <summary>The configuration this scheduler was built from.</summary>
    public override KDPM2DiscreteSchedulerConfig Config { get; }

    /// <exception cref="ArgumentException">An option value is not defined, prediction_type is sample, more than one use_*_sigmas flag is set, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public KDPM2DiscreteScheduler(KDPM2DiscreteSchedulerConfig? config = null)
        : base(config ??= new()) => Config = config;

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static KDPM2DiscreteScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<KDPM2DiscreteSchedulerConfig>(path));

    /// <summary>
    /// Picks N timesteps by <c>timestep_spacing</c> and their sigmas (respaced when a use_*_sigmas flag asks; Karras
    /// timesteps are then rounded, as in diffusers), the midpoint levels and their timesteps, and interleaves them.
    /// </summary>
    private protected override void BuildSchedule(int n, int? numInferenceSteps)
    {
        var (sigmas, timesteps) = InferenceLevels(n, kdpm2Timesteps: true);

        // sigma_mid(i) = sqrt(sigma_{i-1} sigma_i): the midpoint the step ending at sigma_i passes (entry 0 unused).
        var previous = sigmas.Skip(sigmas.Length - 1).Concat(sigmas.Take(sigmas.Length - 1)).ToArray(); // roll(1)
        var interpol = LogMidpoints(sigmas, previous);
        var midTimesteps = MidpointTimesteps(interpol);

        // t_0, then (t_mid(i), t_i) for i = 1 .. N - 1.
        var schedule = new List<double> { timesteps[0] };
        for (int i = 1; i < n; i++) { schedule.Add(midTimesteps[i]); schedule.Add(timesteps[i]); }
        SetSchedule(Interleave(sigmas), schedule, numInferenceSteps);
        sigmasInterpol = Interleave(interpol);
    }

    private protected override float ModelInputSigma(int index) => StateInFirstOrder ? sigmas[index] : sigmasInterpol[index];

    /// <summary>
    /// One stage of a DPM-Solver-2 step: the first goes from x_i at sigma_i to the midpoint,
    /// x_mid = x_i + (sigma_mid - sigma_i) d_i; the second evaluates d_mid = (x_mid - D(x_mid; sigma_mid)) / sigma_mid
    /// and returns x_{i+1} = x_i + (sigma_{i+1} - sigma_i) d_mid.
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="SigmaSpaceScheduler.Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) the current sample: x_i in the first stage, x_mid in the second.</param>
    /// <param name="noise">Unused: the solver is deterministic.</param>
    /// <param name="generator">Unused.</param>
    /// <exception cref="InvalidOperationException"><see cref="SigmaSpaceScheduler.SetTimesteps"/> has not been called, or the schedule is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ, or the first timestep is not in the schedule.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        int i = BeginStep(modelOutput, timestep, sample, noise, generator);
        using var scope = torch.NewDisposeScope();
        bool first = StateInFirstOrder;
        // First stage at entry i: (sigma_i, its step's midpoint, sigma_{i+1}); the second stage reads the same step one entry back.
        float sigma = first ? sigmas[i] : sigmas[i - 1];
        float sigmaInterpol = first ? sigmasInterpol[i + 1] : sigmasInterpol[i];
        float sigmaNext = first ? sigmas[i + 1] : sigmas[i];

        // 1. The denoised estimate at the stage's level (sigma_i, or sigma_mid).
        var predOriginalSample = PredictOriginalSample(Config.PredictionType, modelOutput, sample, first ? sigma : sigmaInterpol);

        // 2. The DPM-Solver-2 stage: to the midpoint, or the full step to sigma_{i+1}.
        var prevSample = MidpointStage(sample, predOriginalSample, sigma, sigmaInterpol, sigmaNext);

        EndStep();
        return new SchedulerOutput(NoiseSchedule.Escape(prevSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }
}
