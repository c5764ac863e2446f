using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// The bottleneck of text-conditioned UNets: resnet, then (spatial transformer, resnet) × numLayers at constant width.
/// Follows diffusers models/unets/unet_2d_blocks.py <c>UNetMidBlock2DCrossAttn</c> (no dual cross-attention).
/// </summary>
public sealed class UNetMidBlock2DCrossAttn : nn.Module<Tensor, Tensor?, Tensor?, Tensor>
{
    public readonly ModuleList<Transformer2DModel> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;

    /// <param name="inChannels">Width C, kept throughout.</param>
    /// <param name="numLayers">Number of (transformer, resnet) pairs after the first resnet.</param>
    public UNetMidBlock2DCrossAttn(long inChannels, ResnetSettings resnet, TransformerSettings transformer, int numLayers = 1)
        : base(nameof(UNetMidBlock2DCrossAttn))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        ArgumentNullException.ThrowIfNull(transformer);
        attentions = new ModuleList<Transformer2DModel>();
        resnets = new ModuleList<ResnetBlock2D>(resnet.Create(inChannels, inChannels));
        for (int i = 0; i < numLayers; i++)
        {
            attentions.append(transformer.Create(inChannels, resnet.Groups));
            resnets.append(resnet.Create(inChannels, inChannels));
        }
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C, H, W).</param>
    /// <param name="temb">(B, temb_channels).</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim).</param>
    /// <returns>(B, C, H, W).</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor? temb, Tensor? encoderHiddenStates)
    {
        var h = resnets[0].call(hiddenStates, temb);
        for (int i = 0; i < attentions.Count; i++)
        {
            h = attentions[i].call(h, encoderHiddenStates);
            h = resnets[i + 1].call(h, temb);
        }
        return h;
    }
}
