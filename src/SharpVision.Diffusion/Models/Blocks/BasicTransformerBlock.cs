using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Pre-norm transformer layer over tokens: self-attention, cross-attention on encoder states, GEGLU feed-forward, each
/// behind a LayerNorm and added back to its input. Follows diffusers models/attention.py <c>BasicTransformerBlock</c>
/// with <c>norm_type="layer_norm"</c>, no positional embedding, <c>only_cross_attention=False</c>, <c>double_self_attention=False</c>.
/// </summary>
public sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    public readonly LayerNorm norm1;
    public readonly Attention attn1;
    public readonly LayerNorm norm2;
    public readonly Attention attn2;
    public readonly LayerNorm norm3;
    public readonly FeedForward ff;

    /// <param name="dim">Token width C.</param>
    /// <param name="numAttentionHeads">Heads of both attentions.</param>
    /// <param name="attentionHeadDim">Width of one head.</param>
    /// <param name="crossAttentionDim">Width of the encoder states attn2 reads (null: attn2 attends over the tokens themselves).</param>
    /// <param name="attentionBias">Bias on the q/k/v projections.</param>
    public BasicTransformerBlock(long dim, long numAttentionHeads, long attentionHeadDim, long? crossAttentionDim = null,
        double dropout = 0.0, bool attentionBias = false, double normEps = 1e-5) : base(nameof(BasicTransformerBlock))
    {
        norm1 = nn.LayerNorm([dim], normEps, elementwise_affine: true);
        attn1 = new Attention(dim, heads: numAttentionHeads, dimHead: attentionHeadDim, dropout: dropout, bias: attentionBias);
        norm2 = nn.LayerNorm([dim], normEps, elementwise_affine: true);
        attn2 = new Attention(dim, crossAttentionDim, heads: numAttentionHeads, dimHead: attentionHeadDim, dropout: dropout, bias: attentionBias);
        norm3 = nn.LayerNorm([dim], normEps, elementwise_affine: true);
        ff = new FeedForward(dim, dropout: dropout);
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, N, C) tokens.</param>
    /// <param name="encoderHiddenStates">(B, M, C_cross) for attn2; null makes attn2 a second self-attention.</param>
    /// <returns>(B, N, C).</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var h = attn1.call(norm1.call(hiddenStates), null) + hiddenStates;
        h = attn2.call(norm2.call(h), encoderHiddenStates) + h;
        h = ff.call(norm3.call(h)) + h;
        return h.MoveToOuterDisposeScope();
    }
}
