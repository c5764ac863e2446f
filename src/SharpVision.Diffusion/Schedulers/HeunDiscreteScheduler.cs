namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Heun's second-order method on the probability-flow ODE in sigma space, Algorithm 1 of Karras et al. 2022
/// (https://arxiv.org/abs/2206.00364): an Euler step, then a correction with the average of the derivatives at both
/// ends. Follows diffusers 0.40 <c>schedulers/scheduling_heun_discrete.py</c> (HeunDiscreteScheduler).
/// </summary>
/// <remarks>
/// Each solver step takes two model evaluations, so the loop visits every timestep but the first twice:
/// <see cref="SigmaSpaceScheduler.Timesteps"/> is t_0, t_1, t_1, t_2, t_2, ... (2N - 1 entries), and the sigma table
/// is interleaved the same way. The scheduler keeps the first stage's derivative and sample between the two calls.
/// </remarks>
public sealed class HeunDiscreteScheduler : SigmaSpaceScheduler
{
    // Between the two stages of a step (with x_i in firstStageSample): d_i and the step size of the first stage.
    Tensor? prevDerivative;
    float dt;

    /// <summary>The configuration this scheduler was built from.</summary>
    public override HeunDiscreteSchedulerConfig Config { get; }

    /// <summary>Two model evaluations per step.</summary>
    public override int Order => 2;

    /// <exception cref="ArgumentException">An option value is not defined, more than one use_*_sigmas flag is set, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or clip_sample_range is not positive.</exception>
    public HeunDiscreteScheduler(HeunDiscreteSchedulerConfig? config = null)
        : base(config ??= new(), TrainingAlphasCumprod(config, allowExp: true))
    {
        Config = config;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.ClipSampleRange, "clip_sample_range");
        // diffusers' constructor sets a T-step schedule; Step still requires SetTimesteps.
        BuildSchedule(config.NumTrainTimesteps, null);
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static HeunDiscreteScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<HeunDiscreteSchedulerConfig>(path));

    /// <summary>
    /// Picks N timesteps by <c>timestep_spacing</c> and their sigmas (respaced when a use_*_sigmas flag asks), then
    /// interleaves both for the two stages; resets the stage state.
    /// </summary>
    private protected override void BuildSchedule(int n, int? numInferenceSteps)
    {
        var (sigmas, timesteps) = InferenceLevels(n);
        // sigma_0, then sigma_1 .. sigma_{N-1} twice each, then 0: the first stage of step i reads (sigma_i, sigma_{i+1}),
        // the second the pair before it.
        var interleaved = new List<float> { sigmas[0] };
        for (int i = 1; i < sigmas.Length - 1; i++) { interleaved.Add(sigmas[i]); interleaved.Add(sigmas[i]); }
        interleaved.Add(0f);
        // t_0, then t_1 .. t_{N-1} twice each.
        var schedule = new List<double> { timesteps[0] };
        for (int i = 1; i < n; i++) { schedule.Add(timesteps[i]); schedule.Add(timesteps[i]); }
        SetSchedule(interleaved.ToArray(), schedule, numInferenceSteps);
        prevDerivative = Release(prevDerivative);
    }

    /// <summary>
    /// One stage of a Heun step (Karras et al. 2022, Algorithm 1): the first stage is the Euler step
    /// x'_{i+1} = x_i + (sigma_{i+1} - sigma_i) d_i with d_i = (x_i - D(x_i; sigma_i)) / sigma_i; the second evaluates
    /// d'_i = (x'_{i+1} - D(x'_{i+1}; sigma_{i+1})) / sigma_{i+1} and returns x_{i+1} = x_i + (sigma_{i+1} - sigma_i)(d_i + d'_i) / 2.
    /// A last step to sigma = 0 has only the first stage (Algorithm 1, line 7).
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise, x_0 or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="SigmaSpaceScheduler.Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) the current sample: x_i in the first stage, x'_{i+1} in the second.</param>
    /// <param name="noise">Unused: the solver is deterministic.</param>
    /// <param name="generator">Unused.</param>
    /// <exception cref="InvalidOperationException"><see cref="SigmaSpaceScheduler.SetTimesteps"/> has not been called, or the schedule is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ, or the first timestep is not in the schedule.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        int i = BeginStep(modelOutput, timestep, sample, noise, generator);
        using var scope = torch.NewDisposeScope();
        bool first = StateInFirstOrder;
        // First stage: from sigma_i to sigma_{i+1}. Second stage: the same pair, one entry back in the interleaved table.
        float sigma = first ? sigmas[i] : sigmas[i - 1];
        float sigmaNext = first ? sigmas[i + 1] : sigmas[i];

        // 1. The denoised estimate at the stage's own level (sigma_i, or sigma_{i+1} for the corrector).
        var predOriginalSample = PredictOriginalSample(Config.PredictionType, modelOutput, sample, first ? sigma : sigmaNext);
        if (Config.ClipSample)
            predOriginalSample = predOriginalSample.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        Tensor prevSample;
        if (first)
        {
            // 2a. Euler predictor; keep d_i, the step and x_i for the corrector.
            var derivative = (sample - predOriginalSample) / sigma;
            dt = sigmaNext - sigma;
            prevSample = sample + derivative * dt;
            prevDerivative = Keep(derivative);
            firstStageSample = Keep(sample);
        }
        else
        {
            // 2b. Trapezoidal corrector from x_i with the mean of d_i and d'_i.
            var derivative = (prevDerivative! + (sample - predOriginalSample) / sigmaNext) / 2;
            prevSample = firstStageSample! + derivative * dt;
            prevDerivative = Release(prevDerivative);
            firstStageSample = Release(firstStageSample);
        }

        EndStep();
        return new SchedulerOutput(NoiseSchedule.Escape(prevSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }
}
