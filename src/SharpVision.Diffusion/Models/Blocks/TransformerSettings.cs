namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>Arguments of the <see cref="Transformer2DModel"/>s a cross-attention UNet block puts after its resnets.</summary>
/// <param name="NumAttentionHeads">Heads; each head is C / heads wide.</param>
/// <param name="CrossAttentionDim">Width of the encoder hidden states.</param>
/// <param name="NumLayers">Transformer blocks per Transformer2DModel (<c>transformer_layers_per_block</c>).</param>
/// <param name="UseLinearProjection">Linear instead of 1×1 convolution projections.</param>
/// <param name="UpcastAttention">Kept for the config; the fused attention path of the reference ignores it, so does this one.</param>
public sealed record TransformerSettings(long NumAttentionHeads, long? CrossAttentionDim, int NumLayers = 1, bool UseLinearProjection = false,
    bool UpcastAttention = false)
{
    /// <summary>A Transformer2DModel over <paramref name="channels"/> channels.</summary>
    /// <exception cref="ArgumentException">The heads do not divide the channels.</exception>
    public Transformer2DModel Create(long channels, long normNumGroups)
    {
        if (NumAttentionHeads <= 0 || channels % NumAttentionHeads != 0)
            throw new ArgumentException($"num_attention_heads ({NumAttentionHeads}) must divide the block's channels ({channels})", nameof(channels));
        return new Transformer2DModel(NumAttentionHeads, channels / NumAttentionHeads, channels, NumLayers, CrossAttentionDim, normNumGroups,
            UseLinearProjection);
    }
}
