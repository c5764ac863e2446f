using SharpVision.Diffusion.Models.Blocks;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// An autoencoder decoder stage: resnets without a time embedding (no skip inputs), then an optional
/// nearest-neighbour 2× upsampling with a convolution. Follows diffusers models/unets/unet_2d_blocks.py
/// <c>UpDecoderBlock2D</c> (group norm only).
/// </summary>
public sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    /// <summary>One <see cref="Upsample2D"/> with a convolution, or empty for the last stage.</summary>
    public readonly ModuleList<Upsample2D> upsamplers;

    /// <param name="inChannels">C_in.</param>
    /// <param name="outChannels">C_out of every resnet and of the upsampler.</param>
    /// <param name="resnet">Resnet settings (TembChannels must be null).</param>
    /// <param name="numLayers">Number of resnets (the decoder passes layers_per_block + 1).</param>
    /// <param name="addUpsample">Double H and W at the end.</param>
    public UpDecoderBlock2D(long inChannels, long outChannels, ResnetSettings resnet, int numLayers = 1, bool addUpsample = true)
        : base(nameof(UpDecoderBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        if (resnet.TembChannels is not null)
            throw new ArgumentException($"{nameof(UpDecoderBlock2D)} takes no time embedding: resnet.TembChannels must be null; got {resnet.TembChannels}", nameof(resnet));
        resnets = new ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++) resnets.append(resnet.Create(i == 0 ? inChannels : outChannels, outChannels));
        upsamplers = new ModuleList<Upsample2D>();
        if (addUpsample) upsamplers.append(new Upsample2D(outChannels, useConv: true, outChannels: outChannels));
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C_in, H, W).</param>
    /// <returns>(B, C_out, 2H, 2W) with an upsampler, else (B, C_out, H, W).</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var h = hiddenStates;
        foreach (var r in resnets) h = r.call(h, null);
        foreach (var u in upsamplers) h = u.call(h);
        return h.MoveToOuterDisposeScope();
    }
}
