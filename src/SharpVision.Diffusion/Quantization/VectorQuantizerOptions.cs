namespace SharpVision.Diffusion.Quantization;

/// <summary>
/// Options of a <see cref="VectorQuantizer"/>. Defaults are diffusers' (<c>beta</c> 0.25 as VQModel passes it,
/// <c>legacy</c> true) and sonnet's for the moving averages (decay 0.99, ε 1e-5).
/// </summary>
public sealed record VectorQuantizerOptions
{
    /// <summary>β, the weight of the commitment term (of the codebook term when <see cref="Legacy"/>).</summary>
    public double Beta { get; init; } = 0.25;

    /// <summary>
    /// diffusers' <c>legacy</c> weighting: β multiplies the codebook term instead of the commitment term.
    /// diffusers defaults to it because its (taming-transformers) checkpoints were trained that way.
    /// Only <see cref="QuantizerUpdate.Gradient"/> has a codebook term, so EMA ignores it.
    /// </summary>
    public bool Legacy { get; init; } = true;

    /// <summary>Gradient (codebook loss) or moving-average codebook updates.</summary>
    public QuantizerUpdate Update { get; init; } = QuantizerUpdate.Gradient;

    /// <summary>γ of the moving averages, in [0, 1).</summary>
    public double Decay { get; init; } = 0.99;

    /// <summary>ε of the Laplace smoothing of the EMA cluster sizes (keeps empty codes from dividing by zero).</summary>
    public double Epsilon { get; init; } = 1e-5;

    /// <summary>
    /// EMA only: after each training update, codes whose EMA cluster size is below this are re-seeded from
    /// random encoder outputs of the batch. 0 turns restarts off.
    /// </summary>
    public double DeadCodeThreshold { get; init; }

    /// <summary>Initialise the codebook by k-means on the first training batch.</summary>
    public bool KMeansInit { get; init; }

    /// <summary>Lloyd iterations of the k-means initialisation.</summary>
    public int KMeansIterations { get; init; } = 10;

    /// <summary>Rows of the flattened input searched at a time, bounding the distance block at ChunkSize × n_e.</summary>
    public int ChunkSize { get; init; } = CodebookSearch.DefaultChunkSize;

    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range.</exception>
    internal void Validate()
    {
        if (!(Beta >= 0)) throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "beta must be >= 0");
        if (!(Decay >= 0 && Decay < 1)) throw new ArgumentOutOfRangeException(nameof(Decay), Decay, "decay must be in [0, 1)");
        if (!(Epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "epsilon must be >= 0");
        if (!(DeadCodeThreshold >= 0)) throw new ArgumentOutOfRangeException(nameof(DeadCodeThreshold), DeadCodeThreshold, "dead-code threshold must be >= 0");
        if (DeadCodeThreshold > 0 && Update != QuantizerUpdate.Ema)
            throw new ArgumentException($"dead-code restart needs EMA cluster sizes: set Update = {nameof(QuantizerUpdate.Ema)} (got {Update})", nameof(DeadCodeThreshold));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(KMeansIterations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ChunkSize);
        if (!Enum.IsDefined(Update))
            throw new ArgumentException($"unknown update '{Update}'; allowed: {string.Join(", ", Enum.GetNames<QuantizerUpdate>())}", nameof(Update));
    }
}
