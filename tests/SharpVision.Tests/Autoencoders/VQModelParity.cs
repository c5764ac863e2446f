using SharpVision.Diffusion.Models.Autoencoders;

namespace SharpVision.Tests.Autoencoders;

/// <summary>
/// Kind <c>vq_model</c>: diffusers VQModel encode → quantize → decode on the fixture's save_pretrained folder, and the
/// gradients of mse(decoded, sample) + mean(commit_loss).
/// </summary>
public sealed class VQModelParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["vq_model"];

    public void Run(ParityCase c, Precision p)
    {
        using var scope = torch.NewDisposeScope();
        using var model = VQModel.FromPretrained(c.PathOf(c.String("model_dir") ?? "."), p.Dtype);
        var sample = c.Input("sample", p);

        var latents = model.Encode(sample);
        var q = model.Quantize(latents);
        var decoded = model.DecodeQuantized(q.Quantized);
        c.Expect("expected_latents", latents, p);
        c.Expect("expected_quantized", q.Quantized, p);
        c.Expect("expected_indices", q.Indices.flatten(), p);
        c.Expect("expected_commit_loss", q.Loss, p);
        c.Expect("expected_decoded", decoded, p);

        var loss = torch.nn.functional.mse_loss(decoded, sample) + q.Loss.mean();
        c.Expect("expected_loss", loss, p);
        loss.backward();
        var parameters = model.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        foreach (var name in c.TensorNames.Where(n => n.StartsWith("expected_grad.", StringComparison.Ordinal)))
        {
            var grad = parameters[name["expected_grad.".Length..]].grad ?? throw new InvalidOperationException($"{name}: no gradient");
            c.Expect(name, grad, p);
        }
    }
}
