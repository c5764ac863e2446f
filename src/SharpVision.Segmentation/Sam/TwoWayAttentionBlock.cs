using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// One layer of the two-way transformer: (1) self-attention of the prompt tokens, (2) tokens attend to
/// the image, (3) an MLP on the tokens, (4) the image attends to the tokens; each residual and followed
/// by a LayerNorm. Follows segment-anything modeling/transformer.py <c>TwoWayAttentionBlock</c>.
/// </summary>
public sealed class TwoWayAttentionBlock : nn.Module<Tensor, Tensor, Tensor, Tensor, (Tensor Queries, Tensor Keys)>
{
    public readonly DownsampledAttention self_attn;
    public readonly LayerNorm norm1;
    public readonly DownsampledAttention cross_attn_token_to_image;
    public readonly LayerNorm norm2;
    public readonly MLPBlock mlp;
    public readonly LayerNorm norm3;
    public readonly LayerNorm norm4;
    public readonly DownsampledAttention cross_attn_image_to_token;

    /// <summary>
    /// The first layer's self-attention sees the tokens without their position encoding and replaces
    /// them rather than adding to them (the tokens already are the prompt embeddings).
    /// </summary>
    public bool SkipFirstLayerPe { get; }

    /// <param name="embeddingDim">Token width.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="mlpDim">Hidden width of the ReLU MLP.</param>
    /// <param name="attentionDownsampleRate">Downsampling of the two cross-attentions.</param>
    /// <param name="skipFirstLayerPe">See <see cref="SkipFirstLayerPe"/>.</param>
    public TwoWayAttentionBlock(long embeddingDim, long numHeads, long mlpDim = 2048, long attentionDownsampleRate = 2, bool skipFirstLayerPe = false)
        : base(nameof(TwoWayAttentionBlock))
    {
        self_attn = new DownsampledAttention(embeddingDim, numHeads);
        norm1 = nn.LayerNorm(embeddingDim);
        cross_attn_token_to_image = new DownsampledAttention(embeddingDim, numHeads, attentionDownsampleRate);
        norm2 = nn.LayerNorm(embeddingDim);
        mlp = new MLPBlock(embeddingDim, mlpDim, nn.ReLU());
        norm3 = nn.LayerNorm(embeddingDim);
        norm4 = nn.LayerNorm(embeddingDim);
        cross_attn_image_to_token = new DownsampledAttention(embeddingDim, numHeads, attentionDownsampleRate);
        SkipFirstLayerPe = skipFirstLayerPe;
        RegisterComponents();
    }

    /// <param name="queries">(B, Nt, C) prompt tokens.</param>
    /// <param name="keys">(B, HW, C) image tokens.</param>
    /// <param name="queryPe">(B, Nt, C) the original prompt tokens, added as their position encoding.</param>
    /// <param name="keyPe">(B, HW, C) image position encoding.</param>
    /// <returns>Updated queries (B, Nt, C) and keys (B, HW, C).</returns>
    public override (Tensor Queries, Tensor Keys) forward(Tensor queries, Tensor keys, Tensor queryPe, Tensor keyPe)
    {
        using var scope = NewDisposeScope();
        if (SkipFirstLayerPe)
        {
            queries = self_attn.call(queries, queries, queries);
        }
        else
        {
            var q0 = queries + queryPe;
            queries = queries + self_attn.call(q0, q0, queries);
        }
        queries = norm1.call(queries);

        var q = queries + queryPe;
        var k = keys + keyPe;
        queries = norm2.call(queries + cross_attn_token_to_image.call(q, k, keys));

        queries = norm3.call(queries + mlp.call(queries));

        q = queries + queryPe;
        k = keys + keyPe;
        keys = norm4.call(keys + cross_attn_image_to_token.call(k, q, queries));

        return (queries.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope());
    }
}
