using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// The UNet bottleneck: resnet, then (attention, resnet) × numLayers at constant width.
/// Follows diffusers models/unets/unet_2d_blocks.py <c>UNetMidBlock2D</c> (no spatial norm).
/// </summary>
public sealed class UNetMidBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    public readonly ModuleList<Attention> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;

    /// <param name="inChannels">Width C, kept throughout.</param>
    /// <param name="attentionHeadDim">Channels per head (null: one head of C).</param>
    /// <param name="attnGroups">Groups of the attention's GroupNorm; null: the resnet groups for default time scale-shift,
    /// no GroupNorm for scale_shift (the reference's rule).</param>
    /// <param name="addAttention">False: resnets only.</param>
    public UNetMidBlock2D(long inChannels, ResnetSettings resnet, int numLayers = 1, long? attentionHeadDim = 1,
        long? attnGroups = null, bool addAttention = true) : base(nameof(UNetMidBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        attnGroups ??= resnet.TimeScaleShift == ResnetTimeScaleShift.Default ? resnet.Groups : null;
        attentions = new ModuleList<Attention>();
        resnets = new ModuleList<ResnetBlock2D>(resnet.Create(inChannels, inChannels));
        for (int i = 0; i < numLayers; i++)
        {
            if (addAttention) attentions.append(resnet.CreateAttention(inChannels, attentionHeadDim ?? inChannels, attnGroups));
            resnets.append(resnet.Create(inChannels, inChannels));
        }
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C, H, W).</param>
    /// <param name="temb">(B, temb_channels).</param>
    /// <returns>(B, C, H, W).</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor? temb)
    {
        var h = resnets[0].call(hiddenStates, temb);
        for (int i = 1; i < resnets.Count; i++)
        {
            if (attentions.Count > 0) h = attentions[i - 1].call(h, null);
            h = resnets[i].call(h, temb);
        }
        return h;
    }
}
