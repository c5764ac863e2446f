using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// What TinyViT's two kinds of stage share (<see cref="ConvLayer"/>, <see cref="BasicLayer"/>): the
/// <c>blocks</c> run in order, then the optional <c>downsample</c> merging into the next stage's tokens.
/// </summary>
/// <typeparam name="TBlock">The block type.</typeparam>
public abstract class TinyViTStage<TBlock> : nn.Module<Tensor, Tensor> where TBlock : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<TBlock> blocks;
    public readonly PatchMerging? downsample;

    private protected TinyViTStage(string name, IEnumerable<TBlock> blocks, PatchMerging? downsample) : base(name)
    {
        this.blocks = new ModuleList<TBlock>();
        foreach (var block in blocks) this.blocks.Add(block);
        this.downsample = downsample;
        RegisterComponents();
    }

    /// <param name="x">The stage input: (B, C, H, W) for the convolutional stage, (B, H·W, C) tokens for the others.</param>
    /// <returns>(B, H'·W', out_dim) tokens with a downsample, else the blocks' output in the input's layout.</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var block in blocks) x = block.call(x);
        if (downsample is not null) x = downsample.call(x);
        return x.MoveToOuterDisposeScope();
    }
}
