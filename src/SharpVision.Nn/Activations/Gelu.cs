using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Nn.Activations;

/// <summary>
/// torch.nn.GELU (the exact erf form) that runs on the input's memory order: a channels-last (B, C, H, W) map goes
/// through the kernel as its contiguous (B, H, W, C) view and comes back channels-last, the same values.
/// </summary>
/// <remarks>
/// Written because libtorch's GELU kernel on a channels-last map is about 5× slower than on the same values
/// contiguous (54 ms against 9.7 ms for 256 × 256² on this 2-core machine, libtorch 2.10), while ReLU and additions are not.
/// </remarks>
public sealed class Gelu : nn.Module<Tensor, Tensor>
{
    public Gelu() : base(nameof(Gelu)) { }

    /// <param name="x">Any shape.</param>
    /// <returns>GELU(x), with x's layout.</returns>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.is_contiguous()) return nn.functional.gelu(x);
        using var nhwc = x.permute(0, 2, 3, 1);
        if (!nhwc.is_contiguous()) return nn.functional.gelu(x);
        using var y = nn.functional.gelu(nhwc);
        return y.permute(0, 3, 1, 2);
    }
}
