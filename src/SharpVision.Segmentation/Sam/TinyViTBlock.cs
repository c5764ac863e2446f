using SharpVision.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// A TinyViT transformer block on the tokens of an H×W grid: windowed <see cref="TinyViTAttention"/>
/// (the grid zero-padded to whole windows) with a residual, a 3×3 depthwise <see cref="Conv2d_BN"/>
/// (<c>local_conv</c>) over the grid, then the <see cref="TinyViTMlp"/> with a residual. MobileSAM
/// tiny_vit_sam.py <c>TinyViTBlock</c> (drop path 0).
/// </summary>
public sealed class TinyViTBlock : nn.Module<Tensor, Tensor>
{
    public readonly TinyViTAttention attn;
    public readonly TinyViTMlp mlp;
    public readonly Conv2d_BN local_conv;

    readonly long windowSize;

    /// <summary>(H, W) of the token grid.</summary>
    public (long H, long W) InputResolution { get; }

    /// <param name="dim">Token width.</param>
    /// <param name="inputResolution">(H, W) of the token grid.</param>
    /// <param name="numHeads">Attention heads; must divide <paramref name="dim"/>.</param>
    /// <param name="windowSize">Window side.</param>
    /// <param name="mlpRatio">MLP width as a multiple of <paramref name="dim"/>.</param>
    /// <param name="localConvSize">Kernel side of the depthwise convolution.</param>
    public TinyViTBlock(long dim, (long H, long W) inputResolution, long numHeads, long windowSize = 7, double mlpRatio = 4.0, long localConvSize = 3)
        : base(nameof(TinyViTBlock))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        if (dim % numHeads != 0) throw new ArgumentException($"num_heads ({numHeads}) must divide dim ({dim})", nameof(numHeads));
        InputResolution = inputResolution;
        this.windowSize = windowSize;
        attn = new TinyViTAttention(dim, dim / numHeads, numHeads, (windowSize, windowSize));
        mlp = new TinyViTMlp(dim, (long)(dim * mlpRatio));
        local_conv = new Conv2d_BN(dim, dim, ks: localConvSize, stride: 1, pad: localConvSize / 2, groups: dim);
        RegisterComponents();
    }

    /// <param name="x">(B, H·W, C) tokens, row-major.</param>
    /// <returns>(B, H·W, C).</returns>
    public override Tensor forward(Tensor x)
    {
        var (h, w) = InputResolution;
        if (x.dim() != 3 || x.shape[1] != h * w)
            throw new ArgumentException($"x must be (B, {h * w}, C) tokens of a {h}x{w} grid; got {Shapes.Format(x)}", nameof(x));
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1], c = x.shape[2], ws = windowSize;

        // Window partition (one window when the grid is a single window, the reference's shortcut).
        long padB = (ws - h % ws) % ws, padR = (ws - w % ws) % ws;
        var grid = x.view(b, h, w, c);                                                    // (B, H, W, C)
        if (padB > 0 || padR > 0) grid = nn.functional.pad(grid, [0, 0, 0, padR, 0, padB]);
        long ph = h + padB, pw = w + padR, nh = ph / ws, nw = pw / ws;
        var windows = grid.view(b, nh, ws, nw, ws, c).transpose(2, 3).reshape(b * nh * nw, ws * ws, c); // (B·nH·nW, ws², C)
        var attended = attn.call(windows);
        var merged = attended.view(b, nh, nw, ws, ws, c).transpose(2, 3).reshape(b, ph, pw, c);      // (B, pH, pW, C)
        if (padB > 0 || padR > 0) merged = merged.slice(1, 0, h, 1).slice(2, 0, w, 1).contiguous();
        var y = x + merged.view(b, l, c);

        // The tokens seen as a channels-last (B, C, H, W) map and back: no copies, and the depthwise convolution is
        // faster channels-last.
        var map = y.view(b, h, w, c).permute(0, 3, 1, 2);                                // (B, C, H, W)
        y = local_conv.call(map).permute(0, 2, 3, 1).reshape(b, l, c);                   // (B, L, C)
        y = y + mlp.call(y);
        return y.MoveToOuterDisposeScope();
    }
}
