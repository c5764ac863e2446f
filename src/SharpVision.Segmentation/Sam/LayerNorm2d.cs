using SharpVision.Nn;
using SharpVision.Nn.Normalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Layer normalization over the channel dimension of an NCHW tensor, with a per-channel affine
/// (<c>weight</c>, <c>bias</c>, both (C)). Follows segment-anything modeling/common.py <c>LayerNorm2d</c>:
/// the biased variance is computed explicitly, not through <c>layer_norm</c>, so the rounding matches.
/// </summary>
public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>, INormalizationLayer
{
    public readonly Parameter weight;
    public readonly Parameter bias;
    readonly double eps;

    /// <param name="numChannels">C, the normalized dimension.</param>
    /// <param name="eps">Added to the variance (the reference's default is 1e-6).</param>
    public LayerNorm2d(long numChannels, double eps = 1e-6) : base(nameof(LayerNorm2d))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numChannels);
        weight = new Parameter(ones(numChannels));
        bias = new Parameter(zeros(numChannels));
        this.eps = eps;
        RegisterComponents();
    }

    /// <param name="x">(B, C, H, W).</param>
    /// <returns>(B, C, H, W).</returns>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != weight.shape[0])
            throw new ArgumentException($"x must be (B, {weight.shape[0]}, H, W); got {Shapes.Format(x)}", nameof(x));
        using var scope = NewDisposeScope();
        var u = x.mean([1], keepdim: true);
        var centered = x - u;
        var s = centered.pow(2).mean([1], keepdim: true);
        var normed = centered / (s + eps).sqrt();
        var result = weight.view(-1, 1, 1) * normed + bias.view(-1, 1, 1);
        return result.MoveToOuterDisposeScope();
    }
}
