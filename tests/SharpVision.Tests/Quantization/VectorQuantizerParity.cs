using SharpVision.Diffusion.Quantization;

namespace SharpVision.Tests.Quantization;

/// <summary>
/// diffusers' VectorQuantizer (both <c>legacy</c> weightings): quantised output, loss, indices, and the gradients
/// of sum(z_q · grad_output) + loss, which pin the stop-gradient placement exactly.
/// </summary>
public sealed class VectorQuantizerParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = ["vector_quantizer"];

    public void Run(ParityCase c, Precision p)
    {
        var options = new VectorQuantizerOptions
        {
            Beta = c.Double("beta") ?? 0.25,
            Legacy = c.Bool("legacy", fallback: true),
        };
        using var vq = new VectorQuantizer((int)c.Long("num_embeddings")!, (int)c.Long("embedding_dim")!, options, dtype: p.Dtype);
        using (torch.no_grad()) vq.Codebook.copy_(c.Input("codebook", p));
        vq.train();

        var z = c.Input("z", p).detach().requires_grad_(true);
        var output = vq.forward(z);
        var objective = (output.Quantized * c.Input("grad_output", p)).sum() + output.Loss;
        objective.backward();

        c.Expect("expected_indices", output.Indices.reshape(-1), p);
        c.Expect("expected_z_q", output.Quantized, p);
        c.Expect("expected_loss", output.Loss, p);
        c.Expect("expected_grad_z", z.grad!, p);
        c.Expect("expected_grad_codebook", vq.Codebook.grad!, p);
    }
}
