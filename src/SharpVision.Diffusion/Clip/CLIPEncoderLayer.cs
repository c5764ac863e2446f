using TorchSharp.Modules;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// A pre-norm transformer block (transformers models/clip/modeling_clip.py <c>CLIPEncoderLayer</c>):
/// h + self_attn(layer_norm1(h)), then h + mlp(layer_norm2(h)).
/// </summary>
public sealed class CLIPEncoderLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    public readonly CLIPAttention self_attn;
    public readonly LayerNorm layer_norm1;
    public readonly CLIPMLP mlp;
    public readonly LayerNorm layer_norm2;

    public CLIPEncoderLayer(CLIPTextConfig config) : base(nameof(CLIPEncoderLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        self_attn = new CLIPAttention(config.HiddenSize, config.NumAttentionHeads);
        layer_norm1 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        mlp = new CLIPMLP(config.HiddenSize, config.IntermediateSize, config.HiddenAct);
        layer_norm2 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, L, D).</param>
    /// <param name="attentionMask">(B, 1, L, L) bool, or null for causal attention (see <see cref="CLIPAttention"/>).</param>
    /// <returns>(B, L, D).</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor? attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        var h = hiddenStates + self_attn.call(layer_norm1.call(hiddenStates), attentionMask);
        h = h + mlp.call(layer_norm2.call(h));
        return h.MoveToOuterDisposeScope();
    }
}
