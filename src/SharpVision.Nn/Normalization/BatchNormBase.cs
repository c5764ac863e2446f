namespace SharpVision.Nn.Normalization;

/// <summary>
/// Batch normalization (Ioffe and Szegedy 2015) as torch.nn.modules.batchnorm._BatchNorm: in training,
/// statistics over the batch and spatial positions of each channel (biased variance to normalize, unbiased
/// for <c>running_var</c>); in eval, the running statistics when tracked. libtorch's native batch_norm does the
/// arithmetic and the in-place running-average update; this class supplies torch's averaging factor
/// (momentum, or 1 / num_batches_tracked when momentum is null).
/// </summary>
public abstract class BatchNormBase : NormBase
{
    private protected BatchNormBase(string name, int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, ScalarType dtype)
        : base(name, numFeatures, eps, momentum, affine, trackRunningStats, dtype) { }

    /// <summary>Throws unless the input has this layer's rank and channel count.</summary>
    private protected abstract void CheckInput(Tensor input);

    /// <param name="input">(N, C) or (N, C, L) for BatchNorm1d, (N, C, H, W) for BatchNorm2d.</param>
    /// <returns>The normalized input, same shape.</returns>
    /// <exception cref="ArgumentException">Wrong rank or channel count, or one value per channel in training.</exception>
    public override Tensor forward(Tensor input)
    {
        CheckInput(input);
        bool useBatchStatistics = training || !track_running_stats;
        if (useBatchStatistics && input.numel() / input.shape[1] <= 1)
            throw new ArgumentException($"input must have more than one value per channel to compute batch statistics; got {Shapes.Format(input)}", nameof(input));
        double factor = training && track_running_stats ? AverageFactor(countBatch: true) : 0.0;
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, useBatchStatistics, factor, eps);
    }
}
