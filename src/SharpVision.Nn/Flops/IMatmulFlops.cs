namespace SharpVision.Nn.Flops;

/// <summary>
/// A module whose forward does multiply-accumulates that <see cref="FlopCounter"/> cannot see from the layers it
/// calls: activations multiplied by activations (attention's q kᵀ and attn·v), or a convolution run functionally with
/// folded weights; it reports that work for its input.
/// </summary>
public interface IMatmulFlops
{
    /// <summary>Multiply-accumulates of that work in one forward on <paramref name="input"/>.</summary>
    /// <param name="input">The module's (first) input.</param>
    /// <param name="context">A two-input module's second input (cross-attention's keys and values); null otherwise.</param>
    long MatmulMacs(Tensor input, Tensor? context);
}
