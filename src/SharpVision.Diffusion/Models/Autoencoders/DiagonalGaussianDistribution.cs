using SharpVision.Nn;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// The posterior q(z | x) = N(mean, diag(exp(logvar))) of a KL autoencoder, from the encoder's 2C moment channels
/// (first C: mean, last C: log-variance clamped to [−30, 20] so exp stays finite). Follows diffusers
/// models/autoencoders/vae.py <c>DiagonalGaussianDistribution</c>. Owns its tensors: dispose it when done.
/// </summary>
public sealed class DiagonalGaussianDistribution : IDisposable
{
    /// <summary>(B, C, h, w).</summary>
    public Tensor Mean { get; }
    /// <summary>(B, C, h, w) clamped log-variance.</summary>
    public Tensor LogVar { get; }
    /// <summary>(B, C, h, w) exp(logvar / 2).</summary>
    public Tensor Std { get; }
    /// <summary>(B, C, h, w) exp(logvar).</summary>
    public Tensor Var { get; }
    /// <summary>A point mass at the mean (diffusers' <c>deterministic</c>): zero variance, sample = mean.</summary>
    public bool Deterministic { get; }

    /// <param name="parameters">(B, 2C, h, w) moments.</param>
    /// <param name="deterministic">Zero variance.</param>
    /// <exception cref="ArgumentException">Not rank 4 with an even channel count.</exception>
    public DiagonalGaussianDistribution(Tensor parameters, bool deterministic = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.dim() != 4 || parameters.shape[1] % 2 != 0)
            throw new ArgumentException($"parameters must be (B, 2C, h, w); got {Shapes.Format(parameters)}", nameof(parameters));
        using var scope = torch.NewDisposeScope();
        var parts = parameters.chunk(2, dim: 1); // mean, logvar: (B, C, h, w) each
        var mean = parts[0];
        var logvar = parts[1].clamp(-30.0, 20.0);
        var std = (0.5 * logvar).exp();
        var variance = logvar.exp();
        if (deterministic)
        {
            std = zeros_like(mean);
            variance = zeros_like(mean);
        }
        Deterministic = deterministic;
        Mean = mean.MoveToOuterDisposeScope();
        LogVar = logvar.MoveToOuterDisposeScope();
        Std = std.MoveToOuterDisposeScope();
        Var = variance.MoveToOuterDisposeScope();
    }

    /// <summary>mean + std · noise, the reparameterised sample.</summary>
    /// <param name="noise">(B, C, h, w) standard normal noise, or null to draw it from <paramref name="generator"/>.</param>
    /// <exception cref="ArgumentException">Noise of another shape.</exception>
    public Tensor Sample(Tensor? noise = null, Generator? generator = null)
    {
        if (noise is not null && !noise.shape.SequenceEqual(Mean.shape))
            throw new ArgumentException($"noise must be {Shapes.Format(Mean)}; got {Shapes.Format(noise)}", nameof(noise));
        using var scope = torch.NewDisposeScope();
        var eps = noise ?? randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return (Mean + Std * eps).MoveToOuterDisposeScope();
    }

    /// <summary>The mode (= mean).</summary>
    public Tensor Mode() => Mean.alias();

    /// <summary>KL(q ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²) over (C, h, w), one per batch item; zeros when deterministic.</summary>
    /// <returns>(B).</returns>
    public Tensor Kl()
    {
        if (Deterministic) return zeros(Mean.shape[0], dtype: Mean.dtype, device: Mean.device);
        using var scope = torch.NewDisposeScope();
        return (0.5 * (Mean.pow(2) + Var - 1.0 - LogVar).sum([1, 2, 3])).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
        Var.Dispose();
    }
}
