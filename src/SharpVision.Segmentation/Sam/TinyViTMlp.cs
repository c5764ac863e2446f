using SharpVision.Nn.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// TinyViT's pre-norm MLP: LayerNorm, <c>fc1</c>, GELU, <c>fc2</c> (the residual is added by the block).
/// MobileSAM tiny_vit_sam.py <c>Mlp</c> (dropout is 0 in every MobileSAM model, so it is omitted).
/// </summary>
public sealed class TinyViTMlp : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm norm;
    public readonly OneDnnLinear fc1;
    public readonly OneDnnLinear fc2;
    public readonly nn.Module<Tensor, Tensor> act;

    /// <param name="inFeatures">Input and output width.</param>
    /// <param name="hiddenFeatures">Hidden width.</param>
    public TinyViTMlp(long inFeatures, long hiddenFeatures) : base(nameof(TinyViTMlp))
    {
        norm = nn.LayerNorm(inFeatures);
        fc1 = new OneDnnLinear(inFeatures, hiddenFeatures);
        fc2 = new OneDnnLinear(hiddenFeatures, inFeatures);
        act = nn.GELU();
        RegisterComponents();
    }

    /// <param name="x">(B, L, C).</param>
    /// <returns>(B, L, C).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = fc1.call(norm.call(x)); // (B, L, hidden)
        return fc2.call(act.call(h)).MoveToOuterDisposeScope();
    }
}
