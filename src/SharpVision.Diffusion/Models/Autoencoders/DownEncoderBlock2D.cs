using SharpVision.Diffusion.Models.Blocks;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// An autoencoder encoder stage: resnets without a time embedding, then an optional stride-2 convolution.
/// Unlike the UNet down blocks it keeps no skip states. Follows diffusers models/unets/unet_2d_blocks.py
/// <c>DownEncoderBlock2D</c>.
/// </summary>
public sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    /// <summary>One <see cref="Downsample2D"/> with a convolution, or empty for the last stage.</summary>
    public readonly ModuleList<Downsample2D> downsamplers;

    /// <param name="inChannels">C_in.</param>
    /// <param name="outChannels">C_out of every resnet and of the downsampler.</param>
    /// <param name="resnet">Resnet settings (TembChannels must be null).</param>
    /// <param name="numLayers">Number of resnets.</param>
    /// <param name="addDownsample">Halve H and W at the end.</param>
    /// <param name="downsamplePadding">Padding of the strided convolution (the VAE encoder uses 0: one row/column of zeros at the bottom/right).</param>
    public DownEncoderBlock2D(long inChannels, long outChannels, ResnetSettings resnet, int numLayers = 1,
        bool addDownsample = true, long downsamplePadding = 1) : base(nameof(DownEncoderBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        if (resnet.TembChannels is not null)
            throw new ArgumentException($"{nameof(DownEncoderBlock2D)} takes no time embedding: resnet.TembChannels must be null; got {resnet.TembChannels}", nameof(resnet));
        resnets = new ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++) resnets.append(resnet.Create(i == 0 ? inChannels : outChannels, outChannels));
        downsamplers = new ModuleList<Downsample2D>();
        if (addDownsample)
            downsamplers.append(new Downsample2D(outChannels, useConv: true, outChannels: outChannels, padding: downsamplePadding));
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C_in, H, W).</param>
    /// <returns>(B, C_out, H/2, W/2) (even H, W) with a downsampler, else (B, C_out, H, W).</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var h = hiddenStates;
        foreach (var r in resnets) h = r.call(h, null);
        foreach (var d in downsamplers) h = d.call(h);
        return h.MoveToOuterDisposeScope();
    }
}
