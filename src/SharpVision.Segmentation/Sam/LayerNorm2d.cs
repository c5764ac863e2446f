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
        // The reference's mean, biased variance and (x − u) / √(s + ε) over the channels, as torch's fused layer_norm on
        // the (B, H, W, C) view: one pass, no copy for channels-last input (the convolutions around it produce that),
        // and the result channels-last. Equal to the reference's arithmetic to rounding.
        using var normed = nn.functional.layer_norm(x.permute(0, 2, 3, 1), [weight.shape[0]], weight, bias, eps);
        return normed.permute(0, 3, 1, 2);
    }
}
