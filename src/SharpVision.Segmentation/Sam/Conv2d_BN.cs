using SharpVision.Nn.Normalization;
using TorchSharp;
using Conv2d = TorchSharp.Modules.Conv2d;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// A bias-free convolution <c>c</c> followed by batch normalization <c>bn</c>, TinyViT's basic
/// convolution (MobileSAM mobile_sam/modeling/tiny_vit_sam.py <c>Conv2d_BN</c>, a Sequential there; the
/// field names keep its keys <c>c.weight</c>, <c>bn.running_mean</c>, ...).
/// </summary>
public sealed class Conv2d_BN : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d c;
    public readonly BatchNorm2d bn;

    /// <param name="a">Input channels.</param>
    /// <param name="b">Output channels.</param>
    /// <param name="ks">Kernel side.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="pad">Zero padding on each side.</param>
    /// <param name="groups">Convolution groups (<paramref name="a"/> for a depthwise convolution).</param>
    /// <param name="bnWeightInit">Initial batch-norm scale (MBConv's last convolution starts at 0, so a fresh block is the identity before its activation).</param>
    public Conv2d_BN(long a, long b, long ks = 1, long stride = 1, long pad = 0, long groups = 1, double bnWeightInit = 1.0)
        : base(nameof(Conv2d_BN))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(a);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(b);
        c = nn.Conv2d(a, b, kernel_size: ks, stride: stride, padding: pad, groups: groups, bias: false);
        bn = new BatchNorm2d(checked((int)b));
        using (no_grad()) bn.weight!.fill_(bnWeightInit);
        RegisterComponents();
    }

    /// <param name="x">(B, a, H, W).</param>
    /// <returns>(B, b, H', W') with H' = (H + 2 pad − ks) / stride + 1.</returns>
    public override Tensor forward(Tensor x)
    {
        using var y = c.call(x);
        return bn.call(y);
    }
}
