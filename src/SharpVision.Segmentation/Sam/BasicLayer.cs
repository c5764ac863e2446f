using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// One transformer stage of TinyViT: <see cref="TinyViTBlock"/>s on an H×W token grid, then an optional
/// <see cref="PatchMerging"/> to the next stage. MobileSAM tiny_vit_sam.py <c>BasicLayer</c>.
/// </summary>
public sealed class BasicLayer : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<TinyViTBlock> blocks;
    public readonly PatchMerging? downsample;

    /// <param name="dim">Token width.</param>
    /// <param name="inputResolution">(H, W) of the token grid.</param>
    /// <param name="depth">Number of blocks.</param>
    /// <param name="numHeads">Attention heads.</param>
    /// <param name="windowSize">Attention window side.</param>
    /// <param name="mlpRatio">MLP width as a multiple of <paramref name="dim"/>.</param>
    /// <param name="localConvSize">Kernel side of the blocks' depthwise convolution.</param>
    /// <param name="downsample">The merging to the next stage, or null for none.</param>
    public BasicLayer(long dim, (long H, long W) inputResolution, long depth, long numHeads, long windowSize, double mlpRatio,
        long localConvSize, PatchMerging? downsample) : base(nameof(BasicLayer))
    {
        blocks = new ModuleList<TinyViTBlock>();
        for (long i = 0; i < depth; i++) blocks.Add(new TinyViTBlock(dim, inputResolution, numHeads, windowSize, mlpRatio, localConvSize));
        this.downsample = downsample;
        RegisterComponents();
    }

    /// <param name="x">(B, H·W, dim) tokens.</param>
    /// <returns>(B, H'·W', out_dim) with a downsample, else (B, H·W, dim).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var block in blocks) x = block.call(x);
        if (downsample is not null) x = downsample.call(x);
        return x.MoveToOuterDisposeScope();
    }
}
