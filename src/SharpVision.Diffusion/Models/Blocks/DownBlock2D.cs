using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet encoder stage of resnets only, then a strided-convolution downsampler (unless last).
/// Follows diffusers models/unets/unet_2d_blocks.py <c>DownBlock2D</c>.
/// </summary>
public sealed class DownBlock2D : nn.Module<Tensor, Tensor?, DownBlockOutput>, IDownBlock2D
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Downsample2D>? downsamplers;

    /// <param name="numLayers">Number of resnets.</param>
    /// <param name="addDownsample">Append a stride-2 convolution.</param>
    public DownBlock2D(long inChannels, long outChannels, ResnetSettings resnet, int numLayers = 1, bool addDownsample = true,
        long downsamplePadding = 1) : base(nameof(DownBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = DownBlockResnets.Create(resnet, numLayers, inChannels, outChannels);
        if (addDownsample)
            downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, useConv: true, outChannels: outChannels, padding: downsamplePadding));
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C_in, H, W).</param>
    /// <param name="temb">(B, temb_channels).</param>
    public override DownBlockOutput forward(Tensor hiddenStates, Tensor? temb)
    {
        var states = new List<Tensor>();
        var h = DownBlockResnets.Run(resnets, hiddenStates, temb, states);
        if (downsamplers is not null)
        {
            foreach (var down in downsamplers) h = down.call(h);
            states.Add(h);
        }
        return new DownBlockOutput(h, states);
    }
}

/// <summary>The resnets of the down blocks without attention.</summary>
internal static class DownBlockResnets
{
    /// <summary>numLayers resnets, the first from the block's input width.</summary>
    internal static ModuleList<ResnetBlock2D> Create(ResnetSettings resnet, int numLayers, long inChannels, long outChannels)
    {
        var resnets = new ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++) resnets.append(resnet.Create(i == 0 ? inChannels : outChannels, outChannels));
        return resnets;
    }

    /// <summary>Runs the resnets in turn, adding each output to <paramref name="states"/> (the skip connections).</summary>
    internal static Tensor Run(ModuleList<ResnetBlock2D> resnets, Tensor hiddenStates, Tensor? temb, List<Tensor> states)
    {
        var h = hiddenStates;
        foreach (var resnet in resnets)
        {
            h = resnet.call(h, temb);
            states.Add(h);
        }
        return h;
    }
}
