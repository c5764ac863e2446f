using SharpVision.Nn.Layers;
using SharpVision.Nn;
using SharpVision.Nn.Flops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// TinyViT's attention inside one window of r×r tokens (LeViT-style): LayerNorm, a joint <c>qkv</c>
/// projection split per head, softmax(q kᵀ · key_dim^−½ + B) v, <c>proj</c>. B is a learned bias per head
/// and per relative offset (|Δy|, |Δx|): <c>attention_biases</c> (heads, r²) gathered through
/// <c>attention_bias_idxs</c> (r², r²), a non-persistent buffer (not in the state_dict, as in the
/// reference). MobileSAM tiny_vit_sam.py <c>Attention</c> with attn_ratio 1 (value width = key width).
/// </summary>
/// <remarks>
/// The reference caches the gathered bias as a buffer <c>ab</c> when switched to eval mode, so a model
/// that loads weights after <c>eval()</c> without calling it again keeps the old bias; here the bias is
/// gathered on every forward from the current <c>attention_biases</c> (the values of a freshly switched
/// reference).
/// </remarks>
public sealed class TinyViTAttention : nn.Module<Tensor, Tensor>, IMatmulFlops
{
    public readonly LayerNorm norm;
    public readonly OneDnnLinear qkv;
    public readonly OneDnnLinear proj;
    public readonly Parameter attention_biases;
    public readonly Tensor attention_bias_idxs;

    readonly long numHeads;
    readonly long keyDim;
    readonly double scale;

    /// <summary>Compute attention with <c>scaled_dot_product_attention</c> (the bias as its float mask) instead of the explicit softmax.</summary>
    public bool UseScaledDotProductAttention { get; set; }

    /// <param name="dim">Token width.</param>
    /// <param name="keyDim">Width per head of queries, keys and values.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="resolution">(r0, r1): the window the biases are defined over.</param>
    public TinyViTAttention(long dim, long keyDim, long numHeads, (long H, long W) resolution) : base(nameof(TinyViTAttention))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resolution.H);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resolution.W);
        this.numHeads = numHeads;
        this.keyDim = keyDim;
        scale = Math.Pow(keyDim, -0.5);
        long dh = keyDim * numHeads;
        norm = nn.LayerNorm(dim);
        qkv = new OneDnnLinear(dim, dh + 2 * keyDim * numHeads);
        proj = new OneDnnLinear(dh, dim);
        attention_biases = new Parameter(zeros(numHeads, resolution.H * resolution.W));
        attention_bias_idxs = BiasIndexes(resolution);
        register_buffer(nameof(attention_bias_idxs), attention_bias_idxs, persistent: false);
        RegisterComponents();
    }

    /// <summary>
    /// The reference numbers each offset (|Δy|, |Δx|) in order of first appearance over all point pairs; the
    /// first point (0, 0) meets every offset first, in row-major order, so the number is |Δy|·r1 + |Δx|.
    /// </summary>
    static Tensor BiasIndexes((long H, long W) r)
    {
        var y = arange(r.H, dtype: ScalarType.Int64).repeat_interleave(r.W); // (N) row of each point
        var x = arange(r.W, dtype: ScalarType.Int64).repeat(r.H);            // (N) column of each point
        var dy = (y.unsqueeze(1) - y.unsqueeze(0)).abs();                    // (N, N)
        var dx = (x.unsqueeze(1) - x.unsqueeze(0)).abs();
        return (dy * r.W + dx).DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        // The base class re-registers moved buffers as persistent; keep the index out of the state_dict.
        ConditionallyRegisterBuffer(nameof(attention_bias_idxs), attention_bias_idxs, persistent: false);
    }

    /// <param name="x">(B, N, dim) tokens of B windows, N = r0·r1.</param>
    /// <returns>(B, N, dim).</returns>
    public override Tensor forward(Tensor x)
    {
        long n = attention_bias_idxs.shape[0];
        if (x.dim() != 3 || x.shape[1] != n)
            throw new ArgumentException($"x must be (B, {n}, C) windows of {n} tokens; got {Shapes.Format(x)}", nameof(x));
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        var h = qkv.call(norm.call(x));                                        // (B, N, heads·3·key_dim)
        var parts = h.view(b, n, numHeads, -1).split([keyDim, keyDim, keyDim], dim: 3); // 3 × (B, N, heads, key_dim)
        var q = parts[0].permute(0, 2, 1, 3);                                 // (B, heads, N, key_dim)
        var k = parts[1].permute(0, 2, 1, 3);
        var v = parts[2].permute(0, 2, 1, 3);
        var bias = attention_biases.index_select(1, attention_bias_idxs.flatten()).view(numHeads, n, n); // (heads, N, N)
        Tensor o;
        if (UseScaledDotProductAttention)
        {
            o = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: bias.to(q.dtype));
        }
        else
        {
            // The scale on q (B·heads·N·key_dim values) rather than on the scores (N/key_dim times as many), and the
            // bias added in place: two fewer passes over the (B, heads, N, N) scores.
            var attn = (q * scale).matmul(k.transpose(-2, -1));                // (B, heads, N, N)
            attn.add_(bias);
            o = attn.softmax(-1).matmul(v);                                    // (B, heads, N, key_dim)
        }
        var merged = o.transpose(1, 2).reshape(b, n, numHeads * keyDim);       // (B, N, heads·key_dim)
        return proj.call(merged).MoveToOuterDisposeScope();
    }

    /// <summary>q kᵀ and attn·v: 2 · B · heads · N² · key_dim multiply-accumulates.</summary>
    public long MatmulMacs(Tensor input, Tensor? context) => 2 * input.shape[0] * numHeads * input.shape[1] * input.shape[1] * keyDim;
}
