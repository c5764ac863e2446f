using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// TinyViT's first, convolutional stage: <see cref="MBConv"/> blocks on the feature map, then an optional
/// <see cref="PatchMerging"/> to the next stage's tokens. MobileSAM tiny_vit_sam.py <c>ConvLayer</c>.
/// </summary>
public sealed class ConvLayer : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<MBConv> blocks;
    public readonly PatchMerging? downsample;

    /// <param name="dim">Channels.</param>
    /// <param name="depth">Number of MBConv blocks.</param>
    /// <param name="downsample">The merging to the next stage, or null for none.</param>
    /// <param name="convExpandRatio">MBConv hidden channels as a multiple of <paramref name="dim"/>.</param>
    public ConvLayer(long dim, long depth, PatchMerging? downsample, double convExpandRatio = 4.0) : base(nameof(ConvLayer))
    {
        blocks = new ModuleList<MBConv>();
        for (long i = 0; i < depth; i++) blocks.Add(new MBConv(dim, dim, convExpandRatio));
        this.downsample = downsample;
        RegisterComponents();
    }

    /// <param name="x">(B, dim, H, W).</param>
    /// <returns>(B, H'·W', out_dim) tokens with a downsample, else (B, dim, H, W).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var block in blocks) x = block.call(x);
        if (downsample is not null) x = downsample.call(x);
        return x.MoveToOuterDisposeScope();
    }
}
