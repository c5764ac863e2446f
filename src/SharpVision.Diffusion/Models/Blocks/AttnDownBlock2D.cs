using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet encoder stage of (resnet, self-attention) pairs, then a downsampler: a strided convolution or a resnet with
/// <c>down=True</c>. Follows diffusers models/unets/unet_2d_blocks.py <c>AttnDownBlock2D</c>.
/// </summary>
public sealed class AttnDownBlock2D : nn.Module<Tensor, Tensor?, DownBlockOutput>, IDownBlock2D
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Attention> attentions;
    /// <summary>A <see cref="Downsample2D"/> (conv) or a <see cref="ResnetBlock2D"/> (resnet); null when last.</summary>
    public readonly ModuleList<nn.Module>? downsamplers;

    /// <param name="attentionHeadDim">Channels per head; heads = C_out / attentionHeadDim.</param>
    /// <param name="downsampleType">Null: no downsampler (the last block).</param>
    public AttnDownBlock2D(long inChannels, long outChannels, ResnetSettings resnet, int numLayers = 1, long attentionHeadDim = 1,
        DownsampleType? downsampleType = DownsampleType.Conv, long downsamplePadding = 1) : base(nameof(AttnDownBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = new ModuleList<ResnetBlock2D>();
        attentions = new ModuleList<Attention>();
        for (int i = 0; i < numLayers; i++)
        {
            resnets.append(resnet.Create(i == 0 ? inChannels : outChannels, outChannels));
            attentions.append(resnet.CreateAttention(outChannels, attentionHeadDim, resnet.Groups));
        }
        if (downsampleType == DownsampleType.Conv)
            downsamplers = new ModuleList<nn.Module>(new Downsample2D(outChannels, useConv: true, outChannels: outChannels, padding: downsamplePadding));
        else if (downsampleType == DownsampleType.Resnet)
            downsamplers = new ModuleList<nn.Module>(resnet.Create(outChannels, outChannels, down: true));
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C_in, H, W).</param>
    /// <param name="temb">(B, temb_channels).</param>
    public override DownBlockOutput forward(Tensor hiddenStates, Tensor? temb)
    {
        var states = new List<Tensor>();
        var h = hiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            h = resnets[i].call(h, temb);
            h = attentions[i].call(h, null);
            states.Add(h);
        }
        if (downsamplers is not null)
        {
            foreach (var down in downsamplers)
                h = down is ResnetBlock2D r ? r.call(h, temb) : ((Downsample2D)down).call(h);
            states.Add(h);
        }
        return new DownBlockOutput(h, states);
    }
}
