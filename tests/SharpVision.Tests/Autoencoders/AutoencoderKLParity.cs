using SharpVision.Diffusion.Models.Autoencoders;

namespace SharpVision.Tests.Autoencoders;

/// <summary>Kind <c>autoencoder_kl</c>: diffusers AutoencoderKL encode → posterior (mean, logvar) → sample with given noise → decode.</summary>
public sealed class AutoencoderKLParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["autoencoder_kl"];

    public void Run(ParityCase c, Precision p)
    {
        using var scope = torch.NewDisposeScope();
        using var model = AutoencoderKL.FromPretrained(c.PathOf(c.String("model_dir") ?? "."), p.Dtype);
        using var noGrad = torch.no_grad();
        using var posterior = model.Encode(c.Input("sample", p));
        c.Expect("expected_mean", posterior.Mean, p);
        c.Expect("expected_logvar", posterior.LogVar, p);
        var latents = posterior.Sample(c.Input("latent_noise", p));
        c.Expect("expected_latents", latents, p);
        c.Expect("expected_decoded", model.Decode(latents), p);
    }
}
