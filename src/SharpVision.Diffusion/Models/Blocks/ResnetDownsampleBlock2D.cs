using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet encoder stage of resnets whose downsampler is itself a resnet with <c>down=True</c> (BigGAN-style).
/// Follows diffusers models/unets/unet_2d_blocks.py <c>ResnetDownsampleBlock2D</c>.
/// </summary>
public sealed class ResnetDownsampleBlock2D : nn.Module<Tensor, Tensor?, DownBlockOutput>, IDownBlock2D
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<ResnetBlock2D>? downsamplers;

    public ResnetDownsampleBlock2D(long inChannels, long outChannels, ResnetSettings resnet, int numLayers = 1, bool addDownsample = true)
        : base(nameof(ResnetDownsampleBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = DownBlockResnets.Create(resnet, numLayers, inChannels, outChannels);
        if (addDownsample) downsamplers = new ModuleList<ResnetBlock2D>(resnet.Create(outChannels, outChannels, down: true));
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
            foreach (var down in downsamplers) h = down.call(h, temb);
            states.Add(h);
        }
        return new DownBlockOutput(h, states);
    }
}
