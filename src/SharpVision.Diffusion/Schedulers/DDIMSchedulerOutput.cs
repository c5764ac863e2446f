namespace SharpVision.Diffusion.Schedulers;

/// <summary>The result of one DDIM (or DDIM inversion) step.</summary>
/// <param name="PrevSample">(B, C, H, W) x at the step's target timestep: x_{t-1} when sampling, x_{t+1} when inverting.</param>
/// <param name="PredOriginalSample">(B, C, H, W) the predicted clean sample x_0 (after clipping or thresholding).</param>
public sealed record DDIMSchedulerOutput(Tensor PrevSample, Tensor PredOriginalSample);
