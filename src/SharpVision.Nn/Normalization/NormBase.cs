using TorchSharp.Modules;

namespace SharpVision.Nn.Normalization;

/// <summary>
/// The state BatchNorm and InstanceNorm share, with torch's names (torch.nn.modules.batchnorm._NormBase):
/// per-channel <c>weight</c>/<c>bias</c> (C) when affine, and buffers <c>running_mean</c> (C, zeros),
/// <c>running_var</c> (C, ones), <c>num_batches_tracked</c> (int64 scalar) when tracking running statistics.
/// </summary>
public abstract class NormBase : nn.Module<Tensor, Tensor>, INormalizationLayer
{
    public readonly int num_features;
    public readonly double eps;
    /// <summary>Weight of the newest batch in the running average; null = cumulative average (1 / num_batches_tracked).</summary>
    public readonly double? momentum;
    public readonly bool affine;
    public readonly bool track_running_stats;
    public readonly Parameter? weight;
    public readonly Parameter? bias;
    public readonly Tensor? running_mean;
    public readonly Tensor? running_var;
    public readonly Tensor? num_batches_tracked;

    private protected NormBase(string name, int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, ScalarType dtype)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        ArgumentOutOfRangeException.ThrowIfNegative(eps);
        if (momentum is { } m && (m < 0 || m > 1 || double.IsNaN(m)))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1] or null (cumulative average)");
        num_features = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        track_running_stats = trackRunningStats;
        if (affine)
        {
            weight = new Parameter(ones(numFeatures, dtype: dtype));
            bias = new Parameter(zeros(numFeatures, dtype: dtype));
        }
        if (trackRunningStats)
        {
            running_mean = zeros(numFeatures, dtype: dtype);
            running_var = ones(numFeatures, dtype: dtype);
            num_batches_tracked = zeros(Array.Empty<long>(), dtype: ScalarType.Int64);
        }
    }

    /// <summary>Zeroes the running mean, sets the running variance to one and the batch count to zero.</summary>
    public void reset_running_stats()
    {
        if (!track_running_stats) return;
        using var noGrad = no_grad();
        running_mean!.zero_();
        running_var!.fill_(1.0);
        num_batches_tracked!.zero_();
    }

    /// <summary>
    /// The factor the newest batch's statistics get in the running average, counting the batch when
    /// <paramref name="countBatch"/> (BatchNorm counts batches, InstanceNorm does not): momentum, or
    /// 1 / num_batches_tracked for the cumulative average (torch's _BatchNorm.forward).
    /// </summary>
    private protected double AverageFactor(bool countBatch)
    {
        if (countBatch && num_batches_tracked is not null)
        {
            using var noGrad = no_grad();
            num_batches_tracked.add_(1);
            if (momentum is null) return 1.0 / num_batches_tracked.item<long>();
        }
        return momentum ?? 0.0;
    }
}
