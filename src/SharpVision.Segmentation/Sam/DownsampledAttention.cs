using SharpVision.Nn.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Multi-head attention whose queries, keys and values are projected to
/// <c>embedding_dim / downsample_rate</c> before the heads are split (<c>q_proj</c>, <c>k_proj</c>,
/// <c>v_proj</c>, <c>out_proj</c>). Follows segment-anything modeling/transformer.py <c>Attention</c>.
/// </summary>
public sealed class DownsampledAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly OneDnnLinear q_proj;
    public readonly OneDnnLinear k_proj;
    public readonly OneDnnLinear v_proj;
    public readonly OneDnnLinear out_proj;

    readonly long numHeads;

    /// <summary>Width inside the attention: embedding_dim / downsample_rate.</summary>
    public long InternalDim { get; }

    /// <summary>
    /// Computes attention with <c>scaled_dot_product_attention</c> instead of the explicit
    /// softmax(q kᵀ / √d) v of the reference. Off by default; results then differ by rounding only.
    /// </summary>
    public bool UseScaledDotProductAttention { get; set; }

    /// <param name="embeddingDim">Width of the inputs and the output.</param>
    /// <param name="numHeads">Heads; must divide the internal width.</param>
    /// <param name="downsampleRate">Divides <paramref name="embeddingDim"/> to give the internal width.</param>
    public DownsampledAttention(long embeddingDim, long numHeads, long downsampleRate = 1) : base("Attention")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(downsampleRate);
        InternalDim = embeddingDim / downsampleRate;
        if (InternalDim % numHeads != 0)
            throw new ArgumentException($"num_heads ({numHeads}) must divide embedding_dim / downsample_rate ({InternalDim})", nameof(numHeads));
        this.numHeads = numHeads;
        q_proj = new OneDnnLinear(embeddingDim, InternalDim);
        k_proj = new OneDnnLinear(embeddingDim, InternalDim);
        v_proj = new OneDnnLinear(embeddingDim, InternalDim);
        out_proj = new OneDnnLinear(InternalDim, embeddingDim);
        RegisterComponents();
    }

    /// <param name="q">(B, Nq, embedding_dim) queries.</param>
    /// <param name="k">(B, Nk, embedding_dim) keys.</param>
    /// <param name="v">(B, Nk, embedding_dim) values.</param>
    /// <returns>(B, Nq, embedding_dim).</returns>
    public override Tensor forward(Tensor q, Tensor k, Tensor v)
    {
        using var scope = NewDisposeScope();
        var qh = SeparateHeads(q_proj.call(q));
        var kh = SeparateHeads(k_proj.call(k));
        var vh = SeparateHeads(v_proj.call(v));
        Tensor output;
        if (UseScaledDotProductAttention)
        {
            output = nn.functional.scaled_dot_product_attention(qh, kh, vh);
        }
        else
        {
            long cPerHead = qh.shape[3];
            var attn = qh.matmul(kh.permute(0, 1, 3, 2)); // (B, heads, Nq, Nk)
            attn = attn / Math.Sqrt(cPerHead);
            output = attn.softmax(-1).matmul(vh);
        }
        // (B, heads, Nq, c) -> (B, Nq, heads, c) -> (B, Nq, internal)
        var merged = output.transpose(1, 2).reshape(output.shape[0], output.shape[2], -1);
        return out_proj.call(merged).MoveToOuterDisposeScope();
    }

    /// <summary>(B, N, C) → (B, heads, N, C / heads).</summary>
    Tensor SeparateHeads(Tensor x) => x.reshape(x.shape[0], x.shape[1], numHeads, x.shape[2] / numHeads).transpose(1, 2);
}
