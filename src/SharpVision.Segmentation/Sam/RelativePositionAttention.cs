using SharpVision.Nn.Layers;
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
    public readonly OneDnnLinear qkv;
    public readonly OneDnnLinear proj;
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

    /// <summary>
    /// Queries attended at a time; 0 attends all at once as the reference. A chunk of c queries holds one
    /// (B·heads, c, H·W) logit (or mask) tensor instead of (B·heads, H·W, H·W): at vit_b's global blocks, 12 × 4096²
    /// floats (805 MB in fp32) become 12 × c × 4096. Rows are independent, so results differ by rounding only.
    /// </summary>
    public int QueryChunkSize
    {
        get => queryChunkSize;
        set { ArgumentOutOfRangeException.ThrowIfNegative(value); queryChunkSize = value; }
    }
    int queryChunkSize;

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
        qkv = new OneDnnLinear(dim, dim * 3, hasBias: qkvBias);
        proj = new OneDnnLinear(dim, dim);
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
        var tokens = qkv.call(x).view(b, h * w, 3, numHeads, -1); // (B, H*W, 3, heads, head_dim)
        var merged = (!UseScaledDotProductAttention && OneDnnLinear.OneDnnTakes(x) ? GroupedConvolutionAttention(tokens, (h, w)) : BatchedMatmulAttention(tokens, (h, w))).view(b, h, w, -1);
        return proj.call(merged).MoveToOuterDisposeScope();
    }

    /// <summary>The reference's arithmetic on (B·heads) batched matmuls, or SDPA; for dtypes and devices oneDNN does not take.</summary>
    /// <param name="tokens">(B, H*W, 3, heads, head_dim) queries, keys and values.</param>
    /// <returns>(B, H*W, C) the heads' outputs side by side.</returns>
    Tensor BatchedMatmulAttention(Tensor tokens, (long H, long W) grid)
    {
        var (h, w) = grid;
        long b = tokens.shape[0];
        // each (B*heads, H*W, head_dim)
        var parts = tokens.permute(2, 0, 3, 1, 4).reshape(3, b * numHeads, h * w, -1).unbind(0);
        Tensor q = parts[0], k = parts[1], v = parts[2];

        // The decomposed relative position terms, per query: (B*heads, H*W, H) and (B*heads, H*W, W).
        var (relH, relW) = rel_pos_h is null ? (null, null) : DecomposedRelPos(q, (h, w), (h, w));
        long n = h * w, chunk = QueryChunkSize > 0 ? Math.Min(QueryChunkSize, n) : n;
        var outputs = new List<Tensor>();
        for (long start = 0; start < n; start += chunk)
        {
            long end = Math.Min(start + chunk, n);
            var qc = chunk == n ? q : q.slice(1, start, end, 1); // (B*heads, c, head_dim)
            // (B*heads, c, H) and (B*heads, c, W), to broadcast over the (H, W) key grid
            Tensor? rh = relH?.slice(1, start, end, 1).unsqueeze(-1), rw = relW?.slice(1, start, end, 1).unsqueeze(-2);
            if (UseScaledDotProductAttention)
            {
                // The terms as one additive float mask (B*heads, c, H*W) in the query's dtype.
                var mask = rh is null ? null : (rh + rw!).view(b * numHeads, end - start, n);
                outputs.Add(nn.functional.scaled_dot_product_attention(qc, k, v, mask));
                continue;
            }
            var attn = (qc * scale).matmul(k.transpose(-2, -1)); // (B*heads, c, H*W)
            // In place on the (B*heads, c, kh, kw) logits: the reference's (attn + rel_h) + rel_w elementwise, without
            // two more attention-sized temporaries.
            if (rh is not null) attn.view(b * numHeads, end - start, h, w).add_(rh).add_(rw!);
            outputs.Add(attn.softmax(-1).matmul(v));
        }
        var output = outputs.Count == 1 ? outputs[0] : cat(outputs, 1); // (B*heads, H*W, head_dim)
        // (B*heads, H*W, hd) -> (B, heads, H*W, hd) -> (B, H*W, heads, hd) -> (B, H*W, C)
        return output.view(b, numHeads, h * w, -1).transpose(1, 2).reshape(b, h * w, -1);
    }

    /// <summary>
    /// The same attention with both products as grouped 1×1 convolutions, which libtorch runs through oneDNN at several
    /// times its batched-matmul rate on this CPU (q·kᵀ for vit_b's global blocks: 93–97 GFLOP/s against 16–40; p·v 200
    /// against 97; a windowed block's 25 × 12 problems of 196 tokens 1.4× faster in all). Every (image or window, head)
    /// is a group: the queries, a channels-last (1, B·C, 1, n) map, convolved with the keys as weights (n filters per
    /// group) give the logits in (query, group, key) order; softmax over the keys; the probabilities, a
    /// (1, B·heads·n, 1, n) map, convolved with the values (head_dim filters per group) give each query's heads side by
    /// side. Queries go <see cref="QueryChunkSize"/> at a time when it is set.
    /// </summary>
    /// <param name="tokens">(B, H*W, 3, heads, head_dim) queries, keys and values.</param>
    /// <returns>(B, H*W, C).</returns>
    Tensor GroupedConvolutionAttention(Tensor tokens, (long H, long W) grid)
    {
        var (h, w) = grid;
        long b = tokens.shape[0], n = h * w, headDim = tokens.shape[4], c = numHeads * headDim, groups = b * numHeads;
        long chunk = QueryChunkSize > 0 ? Math.Min(QueryChunkSize, n) : n;
        var q = (tokens.select(2, 0).transpose(0, 1) * scale).contiguous();               // (n, B, heads, hd), scaled as the reference's logits
        var keys = tokens.select(2, 1).transpose(1, 2).reshape(groups * n, headDim, 1, 1);  // filter g·n + j: key j of group g
        var values = tokens.select(2, 2).permute(0, 2, 3, 1).reshape(groups * headDim, n, 1, 1); // filter g·hd + e: channel e of group g's values
        // The decomposed terms from the unscaled queries as the reference's: (B·heads, n, H) and (B·heads, n, W).
        var (relH, relW) = rel_pos_h is null
            ? (null, null)
            : DecomposedRelPos(tokens.select(2, 0).transpose(1, 2).reshape(groups, n, headDim), (h, w), (h, w));
        var rows = new List<Tensor>();
        for (long start = 0; start < n; start += chunk)
        {
            long m = Math.Min(chunk, n - start);
            var queries = q.narrow(0, start, m).view(1, 1, m, b * c).permute(0, 3, 1, 2);          // (1, B·C, 1, m), channels-last
            var logits = nn.functional.conv2d(queries, keys, groups: groups)                          // (1, B·heads·n, 1, m), channels-last
                .permute(0, 2, 3, 1).reshape(m, groups, h, w);                                        // (m, B·heads, kh, kw), a view
            if (relH is not null)
            {
                // The reference's (attn + rel_h) + rel_w, in place: (m, B·heads, kh, 1) and (m, B·heads, 1, kw).
                logits.add_(relH.narrow(1, start, m).transpose(0, 1).unsqueeze(-1)).add_(relW!.narrow(1, start, m).transpose(0, 1).unsqueeze(-2));
            }
            var probabilities = logits.view(m, groups, n).softmax(-1);                                 // (m, B·heads, n)
            var weighted = nn.functional.conv2d(probabilities.view(1, 1, m, groups * n).permute(0, 3, 1, 2), values, groups: groups); // (1, B·C, 1, m)
            rows.Add(weighted.permute(0, 2, 3, 1).reshape(m, b, c));                                   // (m, B, C)
        }
        var output = rows.Count == 1 ? rows[0] : cat(rows, 0);                                        // (n, B, C)
        return output.transpose(0, 1).reshape(b, n, c);
    }

    /// <summary>
    /// The decomposed relative position terms of every query (image_encoder.py <c>add_decomposed_rel_pos</c> without
    /// the addition): <c>q · Rh[i − k]</c> as (B, qh·qw, kh) and <c>q · Rw[j − l]</c> as (B, qh·qw, kw). The logit of
    /// query (i, j) and key (k, l) gets relH[.., k] + relW[.., l], the reference's (attn + rel_h) + rel_w.
    /// </summary>
    (Tensor RelH, Tensor RelW) DecomposedRelPos(Tensor q, (long H, long W) qSize, (long H, long W) kSize)
    {
        var rh = RelPos(qSize.H, kSize.H, rel_pos_h!); // (qh, kh, hd)
        var rw = RelPos(qSize.W, kSize.W, rel_pos_w!); // (qw, kw, hd)
        long b = q.shape[0], dim = q.shape[2];
        var rq = q.reshape(b, qSize.H, qSize.W, dim);
        // (B, qh, qw, hd) @ (qh, hd, kh) -> (B, qh, qw, kh)
        var relH = rq.matmul(rh.permute(0, 2, 1));
        // (B, qw, qh, hd) @ (qw, hd, kw) -> (B, qw, qh, kw) -> (B, qh, qw, kw)
        var relW = rq.permute(0, 2, 1, 3).matmul(rw.permute(0, 2, 1)).permute(0, 2, 1, 3);
        return (relH.reshape(b, qSize.H * qSize.W, kSize.H), relW.reshape(b, qSize.H * qSize.W, kSize.W));
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
