using SharpVision.Diffusion.Quantization;

namespace SharpVision.Diffusion.Training;

/// <summary>Options of a <see cref="VQVAETrainer"/> run (saved with every checkpoint, so a resumed run continues with them).</summary>
public sealed record VQVAETrainingOptions
{
    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Seeds the initial weights, the codebook, the data order and the quantizer's restarts.</summary>
    public int Seed { get; init; }
    /// <summary>How the codebook learns (gradient/EMA, restarts, loss weighting).</summary>
    public VectorQuantizerOptions Quantizer { get; init; } = new();

    /// <exception cref="ArgumentOutOfRangeException">Batch size or learning rate not positive.</exception>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "learning rate must be > 0");
        ArgumentNullException.ThrowIfNull(Quantizer);
    }
}

/// <summary>One training step's figures.</summary>
/// <param name="Step">Steps done, this one included.</param>
/// <param name="Loss">Reconstruction + quantizer loss.</param>
/// <param name="ReconstructionLoss">mse(decoded, input) in the model's [−1, 1] scale.</param>
/// <param name="QuantizerLoss">Codebook + commitment terms.</param>
/// <param name="Perplexity">Batch code perplexity.</param>
/// <param name="Usage">Fraction of codes the batch used.</param>
public readonly record struct VQVAEStep(long Step, double Loss, double ReconstructionLoss, double QuantizerLoss, double Perplexity, double Usage);

/// <summary>Reconstruction quality and codebook use on a data set.</summary>
/// <param name="Mse">Mean squared error in [0, 1] pixel units over the original (unpadded) pixels.</param>
/// <param name="Perplexity">exp(entropy) of the code histogram over the whole set.</param>
/// <param name="Usage">Fraction of codes used at least once over the whole set.</param>
/// <param name="Images">Images evaluated.</param>
public sealed record VQVAEEvaluation(double Mse, double Perplexity, double Usage, int Images);
