using SharpVision.Nn.Activations;
using SharpVision.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// TinyViT's downsampling between stages: 1×1 <see cref="Conv2d_BN"/> to the next width, a 3×3 depthwise
/// one with stride 2 (stride 1 before MobileSAM's last stage, which keeps the 64×64 grid), a 1×1 one;
/// GELU between them. Takes tokens or a feature map and returns tokens. MobileSAM tiny_vit_sam.py
/// <c>PatchMerging</c>.
/// </summary>
/// <remarks>
/// The reference picks stride 1 when <c>out_dim</c> is 320, 448 or 576 (the widths of its last stages);
/// here the stride is the ratio of the two stages' resolutions, which is the same for every model the
/// reference can run and also lets reduced widths keep the grid.
/// </remarks>
public sealed class PatchMerging : nn.Module<Tensor, Tensor>
{
    public readonly nn.Module<Tensor, Tensor> act;
    public readonly Conv2d_BN conv1;
    public readonly Conv2d_BN conv2;
    public readonly Conv2d_BN conv3;

    /// <summary>(H, W) of the input grid.</summary>
    public (long H, long W) InputResolution { get; }

    /// <param name="inputResolution">(H, W) of the input grid.</param>
    /// <param name="dim">Input channels.</param>
    /// <param name="outDim">Output channels.</param>
    /// <param name="stride">2 to halve the grid, 1 to keep it.</param>
    public PatchMerging((long H, long W) inputResolution, long dim, long outDim, long stride) : base(nameof(PatchMerging))
    {
        if (stride is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be 1 or 2");
        InputResolution = inputResolution;
        act = new Gelu();
        conv1 = new Conv2d_BN(dim, outDim, ks: 1);
        conv2 = new Conv2d_BN(outDim, outDim, ks: 3, stride: stride, pad: 1, groups: outDim);
        conv3 = new Conv2d_BN(outDim, outDim, ks: 1);
        RegisterComponents();
    }

    /// <param name="x">(B, H·W, dim) tokens or (B, dim, H, W).</param>
    /// <returns>(B, H'·W', outDim) tokens of the (possibly halved) grid.</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (h, w) = InputResolution;
        if (x.dim() == 3)
        {
            if (x.shape[1] != h * w) throw new ArgumentException($"x must be (B, {h * w}, C) tokens of a {h}x{w} grid; got {Shapes.Format(x)}", nameof(x));
            x = x.view(x.shape[0], h, w, -1).permute(0, 3, 1, 2); // (B, L, C) -> (B, C, H, W)
        }
        var y = act.call(conv1.call(x));
        y = act.call(conv2.call(y));
        y = conv3.call(y);                     // (B, outDim, H', W')
        // A view when y is channels-last, as it is from channels-last input.
        return y.permute(0, 2, 3, 1).reshape(y.shape[0], -1, y.shape[1]).MoveToOuterDisposeScope(); // (B, H'·W', outDim)
    }
}
