using SharpVision.Nn.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Two linear layers with an activation between them (<c>lin1</c>, <c>act</c>, <c>lin2</c>), as in
/// segment-anything modeling/common.py <c>MLPBlock</c>. The image encoder uses GELU, the two-way
/// transformer ReLU.
/// </summary>
public sealed class MLPBlock : nn.Module<Tensor, Tensor>
{
    public readonly OneDnnLinear lin1;
    public readonly OneDnnLinear lin2;
    public readonly nn.Module<Tensor, Tensor> act;

    /// <param name="embeddingDim">Input and output width.</param>
    /// <param name="mlpDim">Hidden width.</param>
    /// <param name="act">The activation module (e.g. <c>nn.GELU()</c>).</param>
    public MLPBlock(long embeddingDim, long mlpDim, nn.Module<Tensor, Tensor> act) : base(nameof(MLPBlock))
    {
        ArgumentNullException.ThrowIfNull(act);
        lin1 = new OneDnnLinear(embeddingDim, mlpDim);
        lin2 = new OneDnnLinear(mlpDim, embeddingDim);
        this.act = act;
        RegisterComponents();
    }

    /// <param name="x">(..., embeddingDim).</param>
    public override Tensor forward(Tensor x)
    {
        using var h = lin1.call(x);
        using var a = act.call(h);
        return lin2.call(a);
    }
}
