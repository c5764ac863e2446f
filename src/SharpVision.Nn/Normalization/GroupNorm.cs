using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Nn.Normalization;

/// <summary>
/// Group normalization (Wu and He 2018): statistics over each sample's channel group and all spatial
/// positions, so they do not depend on the batch. Parameters <c>weight</c>/<c>bias</c> (C) as in
/// <c>torch.nn.GroupNorm</c>, initialised to ones/zeros (TorchSharp 0.107's own GroupNorm leaves them
/// uninitialised).
/// </summary>
public sealed class GroupNorm : nn.Module<Tensor, Tensor>
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

    /// <param name="input">(N, C, *) with C = num_channels.</param>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() < 2 || input.shape[1] != num_channels)
            throw new ArgumentException($"input must be (N, {num_channels}, *); got {Shapes.Format(input)}", nameof(input));
        return nn.functional.group_norm(input, num_groups, weight, bias, eps);
    }
}
