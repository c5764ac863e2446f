using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet decoder stage of (resnet on [state, skip], self-attention) pairs, then an upsampler: nearest-neighbour +
/// convolution, or a resnet with <c>up=True</c>. Follows diffusers models/unets/unet_2d_blocks.py <c>AttnUpBlock2D</c>.
/// </summary>
public sealed class AttnUpBlock2D : nn.Module<Tensor, IReadOnlyList<Tensor>, Tensor?, Tensor>, IUpBlock2D
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Attention> attentions;
    /// <summary>An <see cref="Upsample2D"/> (conv) or a <see cref="ResnetBlock2D"/> (resnet); null when last.</summary>
    public readonly ModuleList<nn.Module>? upsamplers;

    /// <param name="upsampleType">Null: no upsampler (the last block).</param>
    public AttnUpBlock2D(long inChannels, long prevOutputChannels, long outChannels, ResnetSettings resnet, int numLayers = 1,
        long attentionHeadDim = 1, UpsampleType? upsampleType = UpsampleType.Conv) : base(nameof(AttnUpBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = new ModuleList<ResnetBlock2D>();
        attentions = new ModuleList<Attention>();
        for (int i = 0; i < numLayers; i++)
        {
            resnets.append(resnet.Create(UpBlockChannels.ResnetIn(i, numLayers, inChannels, prevOutputChannels, outChannels), outChannels));
            attentions.append(resnet.CreateAttention(outChannels, attentionHeadDim, resnet.Groups));
        }
        if (upsampleType == UpsampleType.Conv)
            upsamplers = new ModuleList<nn.Module>(new Upsample2D(outChannels, useConv: true, outChannels: outChannels));
        else if (upsampleType == UpsampleType.Resnet)
            upsamplers = new ModuleList<nn.Module>(resnet.Create(outChannels, outChannels, up: true));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int NumResnets => resnets.Count;

    /// <inheritdoc cref="IUpBlock2D.Forward"/>
    public override Tensor forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb) =>
        Forward(hiddenStates, resHiddenStates, temb);

    /// <inheritdoc/>
    public Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb, long[]? upsampleSize = null)
    {
        UpBlockChannels.RequireSkips(resHiddenStates, resnets.Count);
        var h = hiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            var skip = resHiddenStates[resHiddenStates.Count - 1 - i];
            h = resnets[i].call(cat([h, skip], dim: 1), temb); // (B, C_h + C_skip, H, W) in
            h = attentions[i].call(h, null);
        }
        if (upsamplers is not null)
            foreach (var up in upsamplers)
                h = up is ResnetBlock2D r ? r.call(h, temb) : ((Upsample2D)up).Forward(h, upsampleSize);
        return h;
    }
}
