using TorchSharp.Modules;

namespace SharpVision.Diffusion.Clip;

/// <summary>The stack of <see cref="CLIPEncoderLayer"/>s (transformers models/clip/modeling_clip.py <c>CLIPEncoder</c>).</summary>
public sealed class CLIPEncoder : nn.Module<Tensor, Tensor?, IReadOnlyList<Tensor>>
{
    public readonly ModuleList<CLIPEncoderLayer> layers;

    public CLIPEncoder(CLIPTextConfig config) : base(nameof(CLIPEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        layers = new ModuleList<CLIPEncoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new CLIPEncoderLayer(config));
        RegisterComponents();
    }

    /// <param name="inputsEmbeds">(B, L, D) embedding output.</param>
    /// <param name="attentionMask">(B, 1, L, L) bool, or null for causal attention (see <see cref="CLIPAttention"/>).</param>
    /// <returns>transformers' <c>hidden_states</c>: the input, then each layer's output; num_hidden_layers + 1 tensors (B, L, D).</returns>
    public override IReadOnlyList<Tensor> forward(Tensor inputsEmbeds, Tensor? attentionMask)
    {
        var states = new List<Tensor>(layers.Count + 1) { inputsEmbeds };
        foreach (var layer in layers) states.Add(layer.call(states[^1], attentionMask));
        return states;
    }
}
