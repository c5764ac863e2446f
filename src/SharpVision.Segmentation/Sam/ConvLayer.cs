namespace SharpVision.Segmentation.Sam;

/// <summary>
/// TinyViT's first, convolutional stage: <see cref="MBConv"/> blocks on the (B, C, H, W) feature map, then an
/// optional <see cref="PatchMerging"/> to the next stage's tokens. MobileSAM tiny_vit_sam.py <c>ConvLayer</c>.
/// </summary>
public sealed class ConvLayer : TinyViTStage<MBConv>
{
    /// <param name="dim">Channels.</param>
    /// <param name="depth">Number of MBConv blocks.</param>
    /// <param name="downsample">The merging to the next stage, or null for none.</param>
    /// <param name="convExpandRatio">MBConv hidden channels as a multiple of <paramref name="dim"/>.</param>
    public ConvLayer(long dim, long depth, PatchMerging? downsample, double convExpandRatio = 4.0)
        : base(nameof(ConvLayer), Enumerable.Range(0, checked((int)depth)).Select(_ => new MBConv(dim, dim, convExpandRatio)).ToList(), downsample) { }
}
