namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// What <see cref="KDPM2DiscreteScheduler"/> and <see cref="KDPM2AncestralDiscreteScheduler"/> share (diffusers copies the
/// one into the other): two model evaluations per step, no <c>prediction_type: sample</c>, and the two stages of
/// k-diffusion's DPM-Solver-2 step through the midpoint level sigma_mid.
/// </summary>
public abstract class KDPM2SchedulerBase : SigmaSpaceScheduler
{
    /// <summary>Two model evaluations per step.</summary>
    public override int Order => 2;

    /// <exception cref="ArgumentException">An option value is not defined, prediction_type is sample, more than one use_*_sigmas flag is set, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    private protected KDPM2SchedulerBase(SigmaSchedulerConfig config)
        : base(config, TrainingAlphasCumprod(config))
    {
        RejectSamplePrediction(config);
        // diffusers' constructor sets a T-step schedule; Step still requires SetTimesteps.
        BuildSchedule(config.NumTrainTimesteps, null);
    }

    /// <summary>
    /// The update of one stage from the denoised estimate D at the stage's level. The first stage goes from x_i at sigma_i
    /// to the midpoint, x_mid = x_i + (sigma_mid - sigma_i) d_i with d_i = (x_i - D) / sigma_i, and keeps x_i; the second
    /// returns x_i + (<paramref name="sigmaTo"/> - sigma_i) d_mid with d_mid = (x_mid - D) / sigma_mid, and releases x_i.
    /// </summary>
    /// <param name="sample">(B, C, H, W) x_i in the first stage, x_mid in the second.</param>
    /// <param name="predOriginalSample">(B, C, H, W) D at sigma_i (first stage) or sigma_mid (second).</param>
    /// <param name="sigma">sigma_i of the step.</param>
    /// <param name="sigmaInterpol">sigma_mid of the step.</param>
    /// <param name="sigmaTo">Where the full step ends: sigma_{i+1}, or sigma_down for the ancestral step.</param>
    private protected Tensor MidpointStage(Tensor sample, Tensor predOriginalSample, float sigma, float sigmaInterpol, float sigmaTo)
    {
        if (StateInFirstOrder)
        {
            // 2a. Euler step to the midpoint; keep x_i for the full step.
            var derivative = (sample - predOriginalSample) / sigma;
            var midpoint = sample + derivative * (sigmaInterpol - sigma);
            firstStageSample = Keep(sample);
            return midpoint;
        }
        // 2b. The full step from x_i with the midpoint derivative.
        var midpointDerivative = (sample - predOriginalSample) / sigmaInterpol;
        var prevSample = firstStageSample! + midpointDerivative * (sigmaTo - sigma);
        firstStageSample = Release(firstStageSample);
        return prevSample;
    }
}
