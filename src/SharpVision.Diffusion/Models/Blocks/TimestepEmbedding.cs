using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// The MLP that turns timestep features into the embedding every resnet block receives:
/// <c>linear_2(act(linear_1(x)))</c>. Follows diffusers models/embeddings.py <c>TimestepEmbedding</c>
/// (without the optional condition projection and post-activation).
/// </summary>
public sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    public readonly Linear linear_1;
    public readonly Linear linear_2;
    readonly ActivationFunction act;

    /// <param name="inChannels">Width of the timestep features.</param>
    /// <param name="timeEmbedDim">Hidden and (unless <paramref name="outDim"/>) output width.</param>
    public TimestepEmbedding(long inChannels, long timeEmbedDim, ActivationFunction act = ActivationFunction.Silu, long? outDim = null)
        : base(nameof(TimestepEmbedding))
    {
        linear_1 = nn.Linear(inChannels, timeEmbedDim);
        this.act = act;
        linear_2 = nn.Linear(timeEmbedDim, outDim ?? timeEmbedDim);
        RegisterComponents();
    }

    /// <param name="sample">(N, inChannels).</param>
    /// <returns>(N, timeEmbedDim or outDim).</returns>
    public override Tensor forward(Tensor sample)
    {
        using var scope = torch.NewDisposeScope();
        var h = Activations.Apply(act, linear_1.call(sample));
        return linear_2.call(h).MoveToOuterDisposeScope();
    }
}
