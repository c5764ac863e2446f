namespace SharpVision.Nn.Training;

/// <summary>
/// The learning-rate schedule of every trainer: a linear warm-up to the peak rate, then constant — diffusers'
/// <c>get_constant_schedule_with_warmup</c> (optimization.py, 0.31), counted so that the first optimizer step already
/// moves: step n (1-based) uses lr · min(1, n / warmup), where diffusers' LambdaLR gives its first step lr · 0.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate of optimizer step <paramref name="step"/> (1-based: the first step is 1).</summary>
    /// <param name="learningRate">The peak rate, reached at step <paramref name="warmupSteps"/>.</param>
    /// <param name="warmupSteps">Steps of linear warm-up; 0 or less: none.</param>
    public static double Warmup(double learningRate, int warmupSteps, long step) =>
        warmupSteps <= 0 ? learningRate : learningRate * Math.Min(1.0, (double)step / warmupSteps);
}
