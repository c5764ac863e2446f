using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// A stack of linear <c>layers</c> with ReLU between them (none after the last), optionally a final
/// sigmoid. Follows segment-anything modeling/mask_decoder.py <c>MLP</c>.
/// </summary>
public sealed class MLP : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<Linear> layers;
    readonly bool sigmoidOutput;

    /// <param name="inputDim">Input width.</param>
    /// <param name="hiddenDim">Width of the hidden layers.</param>
    /// <param name="outputDim">Output width.</param>
    /// <param name="numLayers">Number of linear layers (≥ 1).</param>
    /// <param name="sigmoidOutput">Whether to apply a sigmoid to the output.</param>
    public MLP(long inputDim, long hiddenDim, long outputDim, int numLayers, bool sigmoidOutput = false) : base(nameof(MLP))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        layers = new ModuleList<Linear>();
        for (int i = 0; i < numLayers; i++)
            layers.Add(nn.Linear(i == 0 ? inputDim : hiddenDim, i == numLayers - 1 ? outputDim : hiddenDim));
        this.sigmoidOutput = sigmoidOutput;
        RegisterComponents();
    }

    /// <param name="x">(..., inputDim).</param>
    /// <returns>(..., outputDim).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < layers.Count; i++)
        {
            x = layers[i].call(x);
            if (i < layers.Count - 1) x = nn.functional.relu(x);
        }
        if (sigmoidOutput) x = x.sigmoid();
        return x.MoveToOuterDisposeScope();
    }
}
