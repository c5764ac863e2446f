using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// A convolution whose weight and bias start at zero (ControlNet's "zero convolution"; diffusers' <c>zero_module(nn.Conv2d(...))</c>).
/// Its output is zero until training moves it, so a freshly attached control branch changes nothing; its weight gradient
/// (input × upstream gradient) is not zero, so the first optimizer step moves it. Parameters are <c>weight</c> and <c>bias</c>
/// directly, so a list of them has the state_dict keys of a list of Conv2d (<c>controlnet_down_blocks.0.weight</c>).
/// </summary>
public sealed class ZeroConv : nn.Module<Tensor, Tensor>
{
    /// <summary>(C_out, C_in, k, k), zero at creation.</summary>
    public readonly Parameter weight;
    /// <summary>(C_out), zero at creation.</summary>
    public readonly Parameter bias;

    readonly long in_channels;
    readonly long padding;

    /// <summary>Input channels.</summary>
    public long InChannels => in_channels;

    /// <summary>Output channels.</summary>
    public long OutChannels => weight.shape[0];

    /// <param name="inChannels">C_in.</param>
    /// <param name="outChannels">C_out (default C_in).</param>
    /// <param name="kernelSize">Square kernel (1 for the residual projections, 3 for the conditioning embedding's output).</param>
    /// <param name="padding">Zero padding on each side (default (k - 1) / 2, which keeps the size).</param>
    public ZeroConv(long inChannels, long? outChannels = null, long kernelSize = 1, long? padding = null) : base(nameof(ZeroConv))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        long outCh = outChannels ?? inChannels;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outCh, nameof(outChannels));
        in_channels = inChannels;
        this.padding = padding ?? (kernelSize - 1) / 2;
        weight = new Parameter(zeros(outCh, inChannels, kernelSize, kernelSize));
        bias = new Parameter(zeros(outCh));
        RegisterComponents();
    }

    /// <param name="input">(B, C_in, H, W).</param>
    /// <returns>(B, C_out, H', W') (H' = H for odd kernels with the default padding).</returns>
    public override Tensor forward(Tensor input)
    {
        Shapes.RequireRank(input, 4, $"(B, {in_channels}, H, W)", nameof(input));
        Shapes.RequireDim(input, 1, in_channels, $"(B, {in_channels}, H, W)", nameof(input));
        return nn.functional.conv2d(input, weight, bias, padding: [padding, padding]);
    }

    /// <summary>Sets every parameter of <paramref name="module"/> to zero (diffusers' <c>zero_module</c>); returns the module.</summary>
    public static T ZeroInit<T>(T module) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = torch.no_grad();
        foreach (var p in module.parameters()) p.zero_();
        return module;
    }
}
