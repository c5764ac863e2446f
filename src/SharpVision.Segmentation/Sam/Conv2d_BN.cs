using SharpVision.Nn.Flops;
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
/// <remarks>
/// In eval mode the batch norm is an affine map per channel, so it is folded into the convolution on every forward
/// (weight · γ/√(var + ε), bias β − mean · γ/√(var + ε), in float32 from the current parameters): one pass over the
/// activations instead of two, as the reference's <c>fuse()</c> does once. Training runs the two modules.
/// </remarks>
public sealed class Conv2d_BN : nn.Module<Tensor, Tensor>, IMatmulFlops
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
        if (training)
        {
            using var y = c.call(x);
            return bn.call(y);
        }
        using var scope = NewDisposeScope();
        var weight = c.weight!;
        var scale = bn.weight!.to(ScalarType.Float32) / (bn.running_var!.to(ScalarType.Float32) + bn.eps).sqrt(); // (b)
        var folded = (weight.to(ScalarType.Float32) * scale.view(-1, 1, 1, 1)).to(weight.dtype);
        var shift = (bn.bias!.to(ScalarType.Float32) - bn.running_mean!.to(ScalarType.Float32) * scale).to(weight.dtype);
        return nn.functional.conv2d(x, folded, shift, strides: c.stride, padding: c.padding, groups: c.groups).MoveToOuterDisposeScope();
    }

    /// <summary>The convolution's multiply-accumulates when it runs folded (eval), which the counter cannot see on <c>c</c>; 0 in training, where <c>c</c> counts them.</summary>
    public long MatmulMacs(Tensor input, Tensor? context)
    {
        if (training) return 0;
        var w = c.weight!;
        long OutSide(int d) => (input.shape[2 + d] + 2 * c.padding![d] - w.shape[2 + d]) / c.stride[d] + 1;
        return input.shape[0] * w.shape[0] * OutSide(0) * OutSide(1) * w.shape[1] * w.shape[2] * w.shape[3];
    }
}
