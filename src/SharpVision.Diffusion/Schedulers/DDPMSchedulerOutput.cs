namespace SharpVision.Diffusion.Schedulers;

/// <summary>The result of one DDPM ancestral step.</summary>
/// <param name="PrevSample">(B, C, H, W) x_{t-1}, the next input of the sampling loop.</param>
/// <param name="PredOriginalSample">(B, C, H, W) the predicted clean sample x_0 (after clipping or thresholding).</param>
public sealed record DDPMSchedulerOutput(Tensor PrevSample, Tensor PredOriginalSample);
