using TorchSharp.Modules;

namespace SharpVision.Nn.Normalization;

/// <summary>
/// Group normalization (Wu and He 2018, arXiv:1803.08494): statistics over each sample's channel group and all
/// spatial positions, so they do not depend on the batch. Parameters <c>weight</c>/<c>bias</c> (C) as in
/// <c>torch.nn.GroupNorm</c>, initialised to ones/zeros (TorchSharp 0.107's own GroupNorm leaves them
/// uninitialised).
/// </summary>
/// <remarks>
/// The paper's family in one routine (<see cref="Normalize"/>): G = 1 is layer normalization over (C, *),
/// G = C is instance normalization. <see cref="AsLayerNorm"/> and <see cref="AsInstanceNorm"/> build those, and
/// <see cref="InstanceNorm2d"/> normalizes through <see cref="Normalize"/> with G = C.
/// </remarks>
public sealed class GroupNorm : nn.Module<Tensor, Tensor>, INormalizationLayer
{
    public readonly int num_groups;
    public readonly int num_channels;
    public readonly double eps;
    public readonly bool affine;
    public readonly Parameter? weight;
    public readonly Parameter? bias;

    /// <exception cref="ArgumentException"><paramref name="numGroups"/> does not divide <paramref name="numChannels"/>.</exception>
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true, ScalarType dtype = ScalarType.Float32)
        : base(nameof(GroupNorm))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numGroups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numChannels);
        if (numChannels % numGroups != 0)
            throw new ArgumentException($"num_groups ({numGroups}) must divide num_channels ({numChannels})", nameof(numGroups));
        num_groups = numGroups;
        num_channels = numChannels;
        this.eps = eps;
        this.affine = affine;
        if (affine)
        {
            weight = new Parameter(ones(numChannels, dtype: dtype));
            bias = new Parameter(zeros(numChannels, dtype: dtype));
        }
        RegisterComponents();
    }

    /// <summary>
    /// Layer normalization over (C, *) as a group norm with one group: per-sample statistics over every channel
    /// and position, per-channel affine (C). torch's <see cref="LayerNorm"/> over normalized_shape (C, H, W)
    /// computes the same normalization but with an elementwise (C, H, W) affine.
    /// </summary>
    public static GroupNorm AsLayerNorm(int numChannels, double eps = 1e-5, bool affine = true, ScalarType dtype = ScalarType.Float32) =>
        new(1, numChannels, eps, affine, dtype);

    /// <summary>
    /// Instance normalization as a group norm with one channel per group: per-sample, per-channel statistics over
    /// the positions; equals <see cref="InstanceNorm2d"/> without running statistics.
    /// </summary>
    public static GroupNorm AsInstanceNorm(int numChannels, double eps = 1e-5, bool affine = true, ScalarType dtype = ScalarType.Float32) =>
        new(numChannels, numChannels, eps, affine, dtype);

    /// <param name="input">(N, C, *) with C = num_channels.</param>
    /// <returns>The normalized input, same shape.</returns>
    /// <exception cref="ArgumentException">The input is not (N, num_channels, *).</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() < 2 || input.shape[1] != num_channels)
            throw new ArgumentException($"input must be (N, {num_channels}, *); got {Shapes.Format(input)}", nameof(input));
        return Normalize(input, num_groups, weight, bias, eps);
    }

    /// <summary>
    /// The shared group-statistics routine: splits the channels into <paramref name="numGroups"/> groups, normalizes
    /// each (sample, group) by its mean and biased variance, then applies the per-channel affine. libtorch's native
    /// group_norm does the arithmetic (one pass for the statistics, fused backward).
    /// </summary>
    /// <param name="input">(N, C, *) with C divisible by <paramref name="numGroups"/>.</param>
    /// <param name="weight">(C) scale, or null.</param>
    /// <param name="bias">(C) shift, or null.</param>
    public static Tensor Normalize(Tensor input, long numGroups, Tensor? weight, Tensor? bias, double eps) =>
        nn.functional.group_norm(input, numGroups, weight, bias, eps);
}
