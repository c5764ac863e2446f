namespace SharpVision.Nn.Normalization;

/// <summary>
/// torch.nn.InstanceNorm2d: each sample's channels normalized by their own mean and biased variance over (H, W).
/// That is a group norm with G = C, and this layer normalizes through <see cref="GroupNorm.Normalize"/> whenever it
/// uses the input's statistics. Defaults as torch: no affine, no running statistics. When tracking, training
/// updates <c>running_mean</c>/<c>running_var</c> with the batch average of the per-instance mean and unbiased
/// variance (torch's instance_norm; num_batches_tracked is not counted, as in torch), and eval normalizes with them.
/// </summary>
public sealed class InstanceNorm2d : NormBase
{
    /// <param name="numFeatures">C, the number of channels.</param>
    /// <param name="momentum">Weight of the newest batch in the running averages.</param>
    public InstanceNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false, ScalarType dtype = ScalarType.Float32)
        : base(nameof(InstanceNorm2d), numFeatures, eps, momentum, affine, trackRunningStats, dtype)
    {
        RegisterComponents();
    }

    /// <param name="input">(N, C, H, W), or (C, H, W) unbatched.</param>
    /// <returns>The normalized input, same shape.</returns>
    /// <exception cref="ArgumentException">Wrong rank or channel count, or one position per channel.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() is < 3 or > 4 || input.shape[^3] != num_features)
            throw new ArgumentException($"input must be (N, {num_features}, H, W) or ({num_features}, H, W); got {Shapes.Format(input)}", nameof(input));
        if (input.dim() == 3)
            return forward(input.unsqueeze(0)).squeeze(0);

        bool useInputStatistics = training || !track_running_stats;
        if (!useInputStatistics)
            return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, false, 0.0, eps);

        if (input.shape[2] * input.shape[3] <= 1)
            throw new ArgumentException($"input must have more than one position per channel; got {Shapes.Format(input)}", nameof(input));
        if (training && track_running_stats)
            UpdateRunningStatistics(input, AverageFactor(countBatch: false));
        return GroupNorm.Normalize(input, num_features, weight, bias, eps);
    }

    /// <summary>running = (1 - f) running + f * batch mean of the per-instance statistics (unbiased variance).</summary>
    void UpdateRunningStatistics(Tensor input, double factor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Two-pass mean and unbiased variance: libtorch's var_mean (Welford) is far slower on CPU at this layout.
        var x = input.detach();
        var mean = x.mean([2, 3], keepdim: true);                                  // (N, C, 1, 1)
        var variance = (x - mean).pow_(2).sum([2, 3]).div_(x.shape[2] * x.shape[3] - 1); // (N, C)
        running_mean!.mul_(1 - factor).add_(mean.flatten(1).mean([0]), alpha: factor);
        running_var!.mul_(1 - factor).add_(variance.mean([0]), alpha: factor);
    }
}
