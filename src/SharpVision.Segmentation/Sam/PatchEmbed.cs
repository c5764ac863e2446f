using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Image to patch tokens: a strided convolution (<c>proj</c>) whose output is returned channels-last.
/// Follows segment-anything modeling/image_encoder.py <c>PatchEmbed</c>.
/// </summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d proj;

    /// <param name="patchSize">Kernel and stride of the projection.</param>
    /// <param name="inChans">Image channels.</param>
    /// <param name="embedDim">Token width.</param>
    public PatchEmbed(long patchSize, long inChans, long embedDim) : base(nameof(PatchEmbed))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patchSize);
        proj = nn.Conv2d(inChans, embedDim, kernel_size: patchSize, stride: patchSize);
        RegisterComponents();
    }

    /// <param name="x">(B, C, H, W) image.</param>
    /// <returns>(B, H / patch, W / patch, embedDim).</returns>
    public override Tensor forward(Tensor x)
    {
        using var y = proj.call(x);
        return y.permute(0, 2, 3, 1); // (B, C, h, w) -> (B, h, w, C)
    }
}
