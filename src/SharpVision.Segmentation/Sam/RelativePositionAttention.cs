using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Multi-head self-attention over a (B, H, W, C) token grid with decomposed relative position
/// embeddings (MViTv2, https://arxiv.org/abs/2112.01526): the attention logit between query (i, j) and
/// key (k, l) gets <c>q · Rh[i - k] + q · Rw[j - l]</c>. Follows segment-anything
/// modeling/image_encoder.py <c>Attention</c>; parameters <c>qkv</c>, <c>proj</c>, <c>rel_pos_h</c>, <c>rel_pos_w</c>.
/// </summary>
public sealed class RelativePositionAttention : nn.Module<Tensor, Tensor>
{
    public readonly Linear qkv;
    public readonly Linear proj;
    public readonly Parameter? rel_pos_h;
    public readonly Parameter? rel_pos_w;

    readonly long numHeads;
    readonly double scale;

    /// <summary>
    /// Computes attention with <c>scaled_dot_product_attention</c> (relative positions passed as an
    /// additive mask) instead of the explicit softmax(q kᵀ) v of the reference. Off by default; results
    /// then differ from the reference by rounding only.
    /// </summary>
    public bool UseScaledDotProductAttention { get; set; }

    /// <param name="dim">C, the token width.</param>
    /// <param name="numHeads">Heads; must divide <paramref name="dim"/>.</param>
    /// <param name="qkvBias">Whether the qkv projection has a bias.</param>
    /// <param name="useRelPos">Whether to add decomposed relative position embeddings.</param>
    /// <param name="inputSize">(H, W) of the grid the relative embeddings are sized for.</param>
    public RelativePositionAttention(long dim, long numHeads, bool qkvBias, bool useRelPos, (long H, long W) inputSize)
        : base("Attention")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        if (dim % numHeads != 0)
            throw new ArgumentException($"num_heads ({numHeads}) must divide dim ({dim})", nameof(numHeads));
        this.numHeads = numHeads;
        long headDim = dim / numHeads;
        scale = Math.Pow(headDim, -0.5);
        qkv = nn.Linear(dim, dim * 3, hasBias: qkvBias);
        proj = nn.Linear(dim, dim);
        if (useRelPos)
        {
            rel_pos_h = new Parameter(zeros(2 * inputSize.H - 1, headDim));
            rel_pos_w = new Parameter(zeros(2 * inputSize.W - 1, headDim));
        }
        RegisterComponents();
    }

    /// <param name="x">(B, H, W, C) tokens.</param>
    /// <returns>(B, H, W, C).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[1], w = x.shape[2];
        // (3, B, heads, H*W, head_dim)
        var qkvOut = qkv.call(x).reshape(b, h * w, 3, numHeads, -1).permute(2, 0, 3, 1, 4);
        // each (B*heads, H*W, head_dim)
        var parts = qkvOut.reshape(3, b * numHeads, h * w, -1).unbind(0);
        Tensor q = parts[0], k = parts[1], v = parts[2];

        Tensor output;
        if (UseScaledDotProductAttention)
        {
            Tensor? bias = rel_pos_h is null ? null : DecomposedRelPos(zeros(1, dtype: q.dtype), q, (h, w), (h, w));
            output = nn.functional.scaled_dot_product_attention(q, k, v, bias);
        }
        else
        {
            var attn = (q * scale).matmul(k.transpose(-2, -1)); // (B*heads, H*W, H*W)
            if (rel_pos_h is not null) attn = DecomposedRelPos(attn, q, (h, w), (h, w));
            output = attn.softmax(-1).matmul(v);
        }
        // (B*heads, H*W, hd) -> (B, heads, H, W, hd) -> (B, H, W, heads, hd) -> (B, H, W, C)
        var merged = output.view(b, numHeads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1);
        return proj.call(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adds the decomposed relative position terms to <paramref name="attn"/> (B, qh*qw, kh*kw) in place, or,
    /// when <paramref name="attn"/> is a zero scalar, returns the terms alone as an additive mask.
    /// </summary>
    Tensor DecomposedRelPos(Tensor attn, Tensor q, (long H, long W) qSize, (long H, long W) kSize)
    {
        var rh = RelPos(qSize.H, kSize.H, rel_pos_h!); // (qh, kh, hd)
        var rw = RelPos(qSize.W, kSize.W, rel_pos_w!); // (qw, kw, hd)
        long b = q.shape[0], dim = q.shape[2];
        var rq = q.reshape(b, qSize.H, qSize.W, dim);
        // (B, qh, qw, hd) @ (qh, hd, kh) -> (B, qh, qw, kh)
        var relH = rq.matmul(rh.permute(0, 2, 1));
        // (B, qw, qh, hd) @ (qw, hd, kw) -> (B, qw, qh, kw) -> (B, qh, qw, kw)
        var relW = rq.permute(0, 2, 1, 3).matmul(rw.permute(0, 2, 1)).permute(0, 2, 1, 3);
        if (attn.numel() == 1)
        {
            // (B, qh, qw, kh, kw) bias alone, for scaled_dot_product_attention's mask
            var bias = relH.unsqueeze(-1) + relW.unsqueeze(-2);
            return bias.view(b, qSize.H * qSize.W, kSize.H * kSize.W);
        }
        // In place on the (B, qh, qw, kh, kw) logits: the reference's (attn + rel_h) + rel_w elementwise, without
        // two more attention-sized temporaries (the global blocks' logits are 12 × 4096² floats at vit_b).
        attn.view(b, qSize.H, qSize.W, kSize.H, kSize.W).add_(relH.unsqueeze(-1)).add_(relW.unsqueeze(-2));
        return attn;
    }

    /// <summary>
    /// Relative embeddings for every (query, key) offset along one axis: (qSize, kSize, hd). Interpolates
    /// the table linearly when it was sized for another grid (image_encoder.py <c>get_rel_pos</c>).
    /// </summary>
    static Tensor RelPos(long qSize, long kSize, Tensor relPos)
    {
        long maxRelDist = 2 * Math.Max(qSize, kSize) - 1;
        var table = relPos;
        if (relPos.shape[0] != maxRelDist)
        {
            // (L, hd) -> (1, hd, L) -> interpolate -> (maxRelDist, hd)
            var resized = nn.functional.interpolate(relPos.reshape(1, relPos.shape[0], -1).permute(0, 2, 1),
                size: [maxRelDist], mode: InterpolationMode.Linear);
            table = resized.reshape(-1, maxRelDist).permute(1, 0);
        }
        double qScale = Math.Max((double)kSize / qSize, 1.0), kScale = Math.Max((double)qSize / kSize, 1.0);
        var qCoords = arange(qSize, dtype: ScalarType.Float32).unsqueeze(1) * qScale;
        var kCoords = arange(kSize, dtype: ScalarType.Float32).unsqueeze(0) * kScale;
        var relative = (qCoords - kCoords) + (kSize - 1) * kScale;
        // (qSize, kSize) indices -> (qSize, kSize, hd)
        return table.index_select(0, relative.to(ScalarType.Int64).flatten()).view(qSize, kSize, -1);
    }
}
