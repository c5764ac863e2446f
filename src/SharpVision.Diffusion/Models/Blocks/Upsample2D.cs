using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Doubles height and width: nearest-neighbour interpolation followed by an optional 3×3 convolution <c>conv</c>,
/// or a stride-2 transposed convolution. Follows diffusers models/upsampling.py <c>Upsample2D</c> (no norm).
/// </summary>
public sealed class Upsample2D : nn.Module<Tensor, Tensor>
{
    /// <summary>The convolution after interpolation (or the transposed convolution); null for plain interpolation.</summary>
    public readonly nn.Module<Tensor, Tensor>? conv;
    readonly long channels;
    readonly bool use_conv_transpose;

    /// <param name="channels">Input channels C.</param>
    /// <param name="useConv">A 3×3 convolution after nearest-neighbour interpolation.</param>
    /// <param name="useConvTranspose">A 4×4 stride-2 transposed convolution instead of interpolation.</param>
    public Upsample2D(long channels, bool useConv = false, bool useConvTranspose = false, long? outChannels = null,
        long? kernelSize = null, long padding = 1, bool bias = true) : base(nameof(Upsample2D))
    {
        this.channels = channels;
        use_conv_transpose = useConvTranspose;
        long outCh = outChannels ?? channels;
        if (useConvTranspose)
            conv = nn.ConvTranspose2d(channels, outCh, kernelSize ?? 4, stride: 2, padding: padding, bias: bias);
        else if (useConv)
            conv = nn.Conv2d(channels, outCh, kernelSize ?? 3, padding: padding, bias: bias);
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C, H, W).</param>
    /// <returns>(B, C_out, 2H, 2W).</returns>
    public override Tensor forward(Tensor hiddenStates) => Forward(hiddenStates, null);

    /// <param name="hiddenStates">(B, C, H, W).</param>
    /// <param name="outputSize">Target (H', W') instead of doubling (UNets whose input size is not a multiple of the total stride).</param>
    /// <returns>(B, C_out, 2H, 2W) or (B, C_out, H', W').</returns>
    public Tensor Forward(Tensor hiddenStates, long[]? outputSize)
    {
        Shapes.RequireDim(hiddenStates, 1, channels, $"(B, {channels}, H, W)", nameof(hiddenStates));
        if (use_conv_transpose) return conv!.call(hiddenStates);
        var up = outputSize is null
            ? nn.functional.interpolate(hiddenStates, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)
            : nn.functional.interpolate(hiddenStates, size: outputSize, mode: InterpolationMode.Nearest);
        if (conv is null) return up;
        using (up) return conv.call(up);
    }
}
