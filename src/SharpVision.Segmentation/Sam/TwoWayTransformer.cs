using SharpVision.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// SAM's mask-decoder transformer: prompt tokens and image tokens attend to each other in
/// <c>layers</c> (<see cref="TwoWayAttentionBlock"/>), then a final token-to-image attention
/// (<c>final_attn_token_to_image</c>, <c>norm_final_attn</c>). Follows segment-anything
/// modeling/transformer.py <c>TwoWayTransformer</c>.
/// </summary>
public sealed class TwoWayTransformer : nn.Module<Tensor, Tensor, Tensor, (Tensor Queries, Tensor Keys)>
{
    public readonly ModuleList<TwoWayAttentionBlock> layers;
    public readonly DownsampledAttention final_attn_token_to_image;
    public readonly LayerNorm norm_final_attn;

    /// <summary>Token width.</summary>
    public long EmbeddingDim { get; }

    /// <param name="depth">Number of two-way layers.</param>
    /// <param name="embeddingDim">Token width.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="mlpDim">Hidden width of the ReLU MLPs.</param>
    /// <param name="attentionDownsampleRate">Downsampling of the cross-attentions.</param>
    public TwoWayTransformer(long depth, long embeddingDim, long numHeads, long mlpDim, long attentionDownsampleRate = 2)
        : base(nameof(TwoWayTransformer))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        EmbeddingDim = embeddingDim;
        layers = new ModuleList<TwoWayAttentionBlock>();
        for (long i = 0; i < depth; i++)
            layers.Add(new TwoWayAttentionBlock(embeddingDim, numHeads, mlpDim, attentionDownsampleRate, skipFirstLayerPe: i == 0));
        final_attn_token_to_image = new DownsampledAttention(embeddingDim, numHeads, attentionDownsampleRate);
        norm_final_attn = nn.LayerNorm(embeddingDim);
        RegisterComponents();
    }

    /// <summary>Switches every attention layer to <c>scaled_dot_product_attention</c> (true) or the reference's explicit softmax.</summary>
    public void UseScaledDotProductAttention(bool enabled)
    {
        foreach (var layer in layers)
        {
            layer.self_attn.UseScaledDotProductAttention = enabled;
            layer.cross_attn_token_to_image.UseScaledDotProductAttention = enabled;
            layer.cross_attn_image_to_token.UseScaledDotProductAttention = enabled;
        }
        final_attn_token_to_image.UseScaledDotProductAttention = enabled;
    }

    /// <param name="imageEmbedding">(B, C, h, w) image to attend to.</param>
    /// <param name="imagePe">(B, C, h, w) its position encoding.</param>
    /// <param name="pointEmbedding">(B, Nt, C) prompt and output tokens.</param>
    /// <returns>Processed tokens (B, Nt, C) and image tokens (B, h*w, C).</returns>
    public override (Tensor Queries, Tensor Keys) forward(Tensor imageEmbedding, Tensor imagePe, Tensor pointEmbedding)
    {
        Shapes.RequireRank(imageEmbedding, 4, "(B, C, h, w)", nameof(imageEmbedding));
        if (!imagePe.shape.SequenceEqual(imageEmbedding.shape))
            throw new ArgumentException($"imagePe must have the shape of imageEmbedding {Shapes.Format(imageEmbedding)}; got {Shapes.Format(imagePe)}", nameof(imagePe));
        using var scope = NewDisposeScope();
        var keys = imageEmbedding.flatten(2).permute(0, 2, 1); // (B, C, h, w) -> (B, hw, C)
        var keyPe = imagePe.flatten(2).permute(0, 2, 1);
        var queries = pointEmbedding;
        foreach (var layer in layers)
            (queries, keys) = layer.call(queries, keys, pointEmbedding, keyPe);

        var q = queries + pointEmbedding;
        var k = keys + keyPe;
        queries = norm_final_attn.call(queries + final_attn_token_to_image.call(q, k, keys));
        return (queries.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope());
    }
}
