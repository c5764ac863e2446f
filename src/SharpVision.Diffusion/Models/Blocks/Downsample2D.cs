using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Halves height and width: a stride-2 convolution (<c>conv</c>), or 2×2 average pooling without a convolution.
/// Follows diffusers models/downsampling.py <c>Downsample2D</c> (no norm); the submodule is named <c>conv</c>
/// as with diffusers' <c>name="op"</c>, the name every UNet/VAE block uses.
/// </summary>
public sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    /// <summary>The strided convolution; null when pooling.</summary>
    public readonly Conv2d? conv;
    readonly long channels;
    readonly long padding;

    /// <param name="channels">Input channels C.</param>
    /// <param name="useConv">Strided convolution (else average pooling, which needs out = in).</param>
    /// <param name="padding">Convolution padding; 0 pads one zero row/column at the bottom/right first, as the reference does.</param>
    /// <exception cref="ArgumentException">Pooling with <paramref name="outChannels"/> ≠ <paramref name="channels"/>.</exception>
    public Downsample2D(long channels, bool useConv = false, long? outChannels = null, long padding = 1, long kernelSize = 3, bool bias = true)
        : base(nameof(Downsample2D))
    {
        this.channels = channels;
        this.padding = padding;
        long outCh = outChannels ?? channels;
        if (useConv)
            conv = nn.Conv2d(channels, outCh, kernelSize, stride: 2, padding: padding, bias: bias);
        else if (outCh != channels)
            throw new ArgumentException($"average-pool downsampling keeps the channels; got {channels} -> {outCh}", nameof(outChannels));
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C, H, W).</param>
    /// <returns>(B, C_out, ⌈H/2⌉, ⌈W/2⌉) for the padded convolution, (B, C, ⌊H/2⌋, ⌊W/2⌋) for pooling.</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        Shapes.RequireDim(hiddenStates, 1, channels, $"(B, {channels}, H, W)", nameof(hiddenStates));
        if (conv is null) return nn.functional.avg_pool2d(hiddenStates, 2, 2);
        if (padding == 0)
        {
            using var padded = nn.functional.pad(hiddenStates, [0, 1, 0, 1]);
            return conv.call(padded);
        }
        return conv.call(hiddenStates);
    }
}
