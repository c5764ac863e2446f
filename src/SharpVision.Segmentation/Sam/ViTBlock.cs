using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// One ViT block of SAM's image encoder: pre-norm attention (within non-overlapping windows, the grid
/// zero-padded to a multiple of the window, or global when <c>window_size</c> is 0) and a pre-norm
/// GELU MLP, both residual. Follows segment-anything modeling/image_encoder.py <c>Block</c>,
/// <c>window_partition</c> and <c>window_unpartition</c>.
/// </summary>
public sealed class ViTBlock : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm norm1;
    public readonly RelativePositionAttention attn;
    public readonly LayerNorm norm2;
    public readonly MLPBlock mlp;

    /// <summary>Window side in tokens; 0 for global attention.</summary>
    public long WindowSize { get; }

    /// <param name="dim">Token width C.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="mlpRatio">MLP hidden width as a multiple of <paramref name="dim"/>.</param>
    /// <param name="qkvBias">Whether the qkv projection has a bias.</param>
    /// <param name="normEps">LayerNorm epsilon (SAM's builders use 1e-6).</param>
    /// <param name="useRelPos">Whether attention adds relative position embeddings.</param>
    /// <param name="windowSize">Window side; 0 for global attention.</param>
    /// <param name="inputSize">(H, W) of the full token grid.</param>
    public ViTBlock(long dim, long numHeads, double mlpRatio, bool qkvBias, double normEps, bool useRelPos,
        long windowSize, (long H, long W) inputSize)
        : base("Block")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(windowSize);
        norm1 = nn.LayerNorm(dim, normEps);
        attn = new RelativePositionAttention(dim, numHeads, qkvBias, useRelPos,
            windowSize == 0 ? inputSize : (windowSize, windowSize));
        norm2 = nn.LayerNorm(dim, normEps);
        mlp = new MLPBlock(dim, (long)(dim * mlpRatio), nn.GELU());
        WindowSize = windowSize;
        RegisterComponents();
    }

    /// <param name="x">(B, H, W, C).</param>
    /// <returns>(B, H, W, C).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shortcut = x;
        var h = norm1.call(x);
        if (WindowSize > 0)
        {
            long height = h.shape[1], width = h.shape[2];
            var (windows, padded) = WindowPartition(h, WindowSize);
            h = WindowUnpartition(attn.call(windows), WindowSize, padded, (height, width));
        }
        else
        {
            h = attn.call(h);
        }
        var y = shortcut + h;
        y = y + mlp.call(norm2.call(y));
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Splits (B, H, W, C) into (B * nWindows, ws, ws, C), zero-padding H and W up to multiples of ws.</summary>
    static (Tensor Windows, (long H, long W) Padded) WindowPartition(Tensor x, long ws)
    {
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        long padH = (ws - h % ws) % ws, padW = (ws - w % ws) % ws;
        if (padH > 0 || padW > 0) x = nn.functional.pad(x, [0, 0, 0, padW, 0, padH]);
        long hp = h + padH, wp = w + padW;
        // (B, Hp/ws, ws, Wp/ws, ws, C) -> (B, Hp/ws, Wp/ws, ws, ws, C) -> (B*nW, ws, ws, C)
        var windows = x.view(b, hp / ws, ws, wp / ws, ws, c).permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, c);
        return (windows, (hp, wp));
    }

    /// <summary>Reverses <see cref="WindowPartition"/>: (B * nWindows, ws, ws, C) to (B, H, W, C) without the padding.</summary>
    static Tensor WindowUnpartition(Tensor windows, long ws, (long H, long W) padded, (long H, long W) size)
    {
        long b = windows.shape[0] / (padded.H * padded.W / ws / ws);
        // (B, Hp/ws, Wp/ws, ws, ws, C) -> (B, Hp/ws, ws, Wp/ws, ws, C) -> (B, Hp, Wp, C)
        var x = windows.view(b, padded.H / ws, padded.W / ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5).contiguous().view(b, padded.H, padded.W, -1);
        if (padded.H > size.H || padded.W > size.W)
            x = x.slice(1, 0, size.H, 1).slice(2, 0, size.W, 1).contiguous();
        return x;
    }
}
