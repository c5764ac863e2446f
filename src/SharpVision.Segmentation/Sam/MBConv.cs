using SharpVision.Nn.Activations;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Inverted-residual (MobileNetV2-style) block of TinyViT's convolutional first stage: 1×1 expansion,
/// 3×3 depthwise convolution, 1×1 projection, each a <see cref="Conv2d_BN"/>, GELU after the first two and
/// after the residual sum. MobileSAM tiny_vit_sam.py <c>MBConv</c> (drop path is the identity at the
/// inference rate 0, so it is omitted).
/// </summary>
public sealed class MBConv : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d_BN conv1;
    public readonly nn.Module<Tensor, Tensor> act1;
    public readonly Conv2d_BN conv2;
    public readonly nn.Module<Tensor, Tensor> act2;
    public readonly Conv2d_BN conv3;
    public readonly nn.Module<Tensor, Tensor> act3;

    /// <param name="inChans">Input (and residual) channels.</param>
    /// <param name="outChans">Output channels; must equal <paramref name="inChans"/> for the residual.</param>
    /// <param name="expandRatio">Hidden channels as a multiple of <paramref name="inChans"/>.</param>
    public MBConv(long inChans, long outChans, double expandRatio) : base(nameof(MBConv))
    {
        if (inChans != outChans) throw new ArgumentException($"MBConv's residual needs out_chans == in_chans; got {outChans} and {inChans}", nameof(outChans));
        long hidden = (long)(inChans * expandRatio);
        conv1 = new Conv2d_BN(inChans, hidden, ks: 1);
        act1 = new Gelu();
        conv2 = new Conv2d_BN(hidden, hidden, ks: 3, stride: 1, pad: 1, groups: hidden);
        act2 = new Gelu();
        conv3 = new Conv2d_BN(hidden, outChans, ks: 1, bnWeightInit: 0.0);
        act3 = new Gelu();
        RegisterComponents();
    }

    /// <param name="x">(B, C, H, W).</param>
    /// <returns>(B, C, H, W).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = act1.call(conv1.call(x)); // (B, hidden, H, W)
        h = act2.call(conv2.call(h));
        h = conv3.call(h);                // (B, C, H, W)
        return act3.call(h + x).MoveToOuterDisposeScope();
    }
}
