namespace SharpVision.Nn.Flops;

/// <summary>
/// A module whose forward multiplies activations by activations (attention's q kᵀ and attn·v), work that
/// <see cref="FlopCounter"/> cannot see from weight shapes; it reports that work for its input.
/// </summary>
public interface IMatmulFlops
{
    /// <summary>Multiply-accumulates of the activation×activation products of one forward on <paramref name="input"/>.</summary>
    /// <param name="input">The module's (first) input.</param>
    /// <param name="context">A two-input module's second input (cross-attention's keys and values); null otherwise.</param>
    long MatmulMacs(Tensor input, Tensor? context);
}
