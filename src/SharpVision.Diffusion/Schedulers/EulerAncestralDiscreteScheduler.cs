namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Ancestral sampling with Euler steps (k-diffusion's <c>sample_euler_ancestral</c>, Crowson; the ancestral split of
/// Song et al. 2021, https://arxiv.org/abs/2011.13456): each step goes deterministically down to a level sigma_down
/// below the target and adds fresh noise of standard deviation sigma_up back up to it.
/// Follows diffusers 0.40 <c>schedulers/scheduling_euler_ancestral_discrete.py</c> (EulerAncestralDiscreteScheduler).
/// </summary>
/// <remarks>
/// Every step draws noise (pass it as <c>noise</c> to reproduce a run). A float64 sample stays float64 (diffusers
/// casts every sample to float32); float16/bfloat16 are computed in float32 as in diffusers.
/// </remarks>
public sealed class EulerAncestralDiscreteScheduler : SigmaSpaceScheduler
{
    /// <summary>The configuration this scheduler was built from.</summary>
    public override EulerAncestralDiscreteSchedulerConfig Config { get; }

    /// <summary>One model evaluation per step.</summary>
    public override int Order => 1;

    /// <exception cref="ArgumentException">An option value is not defined, prediction_type is sample, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public EulerAncestralDiscreteScheduler(EulerAncestralDiscreteSchedulerConfig? config = null)
        : base((config ??= new()).TimestepSpacing, config.StepsOffset, TrainingAlphasCumprod(config, config.RescaleBetasZeroSnr))
    {
        Config = config;
        RejectSamplePrediction(config);
        // Before SetTimesteps: every training level, largest first, then 0, at the timesteps T - 1 .. 0.
        SetSchedule(trainingSigmas.Reverse().Append(0f).ToArray(),
            SigmaSchedule.Linspace(0, config.NumTrainTimesteps - 1, config.NumTrainTimesteps).Reverse().ToArray(), null);
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static EulerAncestralDiscreteScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<EulerAncestralDiscreteSchedulerConfig>(path));

    /// <summary>Picks the inference timesteps by <c>timestep_spacing</c>, their sigmas interpolated from the training ones, and a final 0.</summary>
    private protected override void BuildSchedule(int n, int? numInferenceSteps)
    {
        var (sigmas, timesteps) = InferenceLevels(n);
        SetSchedule(sigmas, timesteps, numInferenceSteps);
    }

    /// <summary>
    /// One ancestral step from sigma_i to sigma_{i+1}: split sigma_{i+1}^2 = sigma_down^2 + sigma_up^2 with
    /// sigma_up = sqrt(sigma_{i+1}^2 (sigma_i^2 - sigma_{i+1}^2) / sigma_i^2) (the DDPM posterior's share of fresh
    /// noise), take an Euler step to sigma_down, then add sigma_up * z.
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="SigmaSpaceScheduler.Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) x at sigma_i.</param>
    /// <param name="noise">(B, C, H, W) the standard normal z; drawn when null.</param>
    /// <param name="generator">Source of drawn noise when <paramref name="noise"/> is null.</param>
    /// <exception cref="InvalidOperationException"><see cref="SigmaSpaceScheduler.SetTimesteps"/> has not been called, or the schedule is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ, both noise and generator given, or the first timestep is not in the schedule.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        int i = BeginStep(modelOutput, timestep, sample, noise, generator);
        using var scope = torch.NewDisposeScope();
        float sigmaFrom = sigmas[i], sigmaTo = sigmas[i + 1];
        var x = sample.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? sample.to(ScalarType.Float32) : sample;

        // 1. The denoised estimate x_0 at sigma_i.
        var predOriginalSample = PredictOriginalSample(Config.PredictionType, modelOutput, x, sigmaFrom);

        // 2. The ancestral split of the target level into a deterministic and a fresh-noise part.
        float sigmaUp = MathF.Sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom));
        float sigmaDown = MathF.Sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);

        // 3. Euler step along d = (x - x_0) / sigma_i down to sigma_down, then the fresh noise.
        var derivative = (x - predOriginalSample) / sigmaFrom;
        float dt = sigmaDown - sigmaFrom;
        var prevSample = x + derivative * dt;
        prevSample = (prevSample + NoiseOrDraw(noise, modelOutput, generator) * sigmaUp).to(modelOutput.dtype);

        EndStep();
        return new SchedulerOutput(NoiseSchedule.Escape(prevSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }
}
