using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet decoder stage of resnets on [state, skip] whose upsampler is itself a resnet with <c>up=True</c> (BigGAN-style).
/// Follows diffusers models/unets/unet_2d_blocks.py <c>ResnetUpsampleBlock2D</c>.
/// </summary>
public sealed class ResnetUpsampleBlock2D : nn.Module<Tensor, IReadOnlyList<Tensor>, Tensor?, Tensor>, IUpBlock2D
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<ResnetBlock2D>? upsamplers;

    public ResnetUpsampleBlock2D(long inChannels, long prevOutputChannels, long outChannels, ResnetSettings resnet, int numLayers = 1,
        bool addUpsample = true) : base(nameof(ResnetUpsampleBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = UpBlockChannels.Resnets(resnet, numLayers, inChannels, prevOutputChannels, outChannels);
        if (addUpsample) upsamplers = new ModuleList<ResnetBlock2D>(resnet.Create(outChannels, outChannels, up: true));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int NumResnets => resnets.Count;

    /// <inheritdoc cref="IUpBlock2D.Forward"/>
    public override Tensor forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb) =>
        Forward(hiddenStates, resHiddenStates, temb);

    /// <inheritdoc/>
    /// <remarks>The resnet upsampler always doubles; <paramref name="upsampleSize"/> is ignored, as in the reference.</remarks>
    public Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb, long[]? upsampleSize = null)
    {
        var h = UpBlockChannels.RunResnets(resnets, hiddenStates, resHiddenStates, temb);
        if (upsamplers is not null)
            foreach (var up in upsamplers) h = up.call(h, temb);
        return h;
    }
}
