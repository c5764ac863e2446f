using SharpVision.Nn.Activations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// TinyViT's stem: two stride-2 3×3 <see cref="Conv2d_BN"/> with a GELU between them, a 4× downsampling
/// that stays channels-first (<c>seq.0</c>, <c>seq.2</c>). MobileSAM tiny_vit_sam.py <c>PatchEmbed</c>
/// (renamed here: segment-anything's <see cref="PatchEmbed"/> is another module).
/// </summary>
public sealed class TinyViTPatchEmbed : nn.Module<Tensor, Tensor>
{
    public readonly Sequential seq;

    /// <summary>(H, W) of the output grid for the input resolution given: a quarter of it.</summary>
    public (long H, long W) PatchesResolution { get; }

    /// <param name="inChans">Image channels.</param>
    /// <param name="embedDim">Output channels (the first stage's width); the middle has half.</param>
    /// <param name="resolution">Side of the input image.</param>
    public TinyViTPatchEmbed(long inChans, long embedDim, long resolution) : base(nameof(TinyViTPatchEmbed))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        PatchesResolution = (resolution / 4, resolution / 4);
        long n = embedDim;
        seq = nn.Sequential(
            new Conv2d_BN(inChans, n / 2, ks: 3, stride: 2, pad: 1),
            new Gelu(),
            new Conv2d_BN(n / 2, n, ks: 3, stride: 2, pad: 1));
        RegisterComponents();
    }

    /// <param name="x">(B, inChans, H, W) normalised image.</param>
    /// <returns>(B, embedDim, H / 4, W / 4).</returns>
    public override Tensor forward(Tensor x) => seq.call(x);
}
