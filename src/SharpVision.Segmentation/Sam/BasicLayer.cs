namespace SharpVision.Segmentation.Sam;

/// <summary>
/// One transformer stage of TinyViT: <see cref="TinyViTBlock"/>s on the (B, H·W, C) tokens of an H×W grid,
/// then an optional <see cref="PatchMerging"/> to the next stage. MobileSAM tiny_vit_sam.py <c>BasicLayer</c>.
/// </summary>
public sealed class BasicLayer : TinyViTStage<TinyViTBlock>
{
    /// <param name="dim">Token width.</param>
    /// <param name="inputResolution">(H, W) of the token grid.</param>
    /// <param name="depth">Number of blocks.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="windowSize">Attention window side.</param>
    /// <param name="mlpRatio">MLP width as a multiple of <paramref name="dim"/>.</param>
    /// <param name="localConvSize">Kernel side of the blocks' depthwise convolution.</param>
    /// <param name="downsample">The merging to the next stage, or null for none.</param>
    public BasicLayer(long dim, (long H, long W) inputResolution, long depth, long numHeads, long windowSize, double mlpRatio,
        long localConvSize, PatchMerging? downsample)
        : base(nameof(BasicLayer), Enumerable.Range(0, checked((int)depth))
            .Select(_ => new TinyViTBlock(dim, inputResolution, numHeads, windowSize, mlpRatio, localConvSize)).ToList(), downsample) { }
}
