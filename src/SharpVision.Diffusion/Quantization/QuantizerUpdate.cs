namespace SharpVision.Diffusion.Quantization;

/// <summary>How a <see cref="VectorQuantizer"/> moves its codebook during training.</summary>
public enum QuantizerUpdate
{
    /// <summary>
    /// By gradient: the codebook loss ||sg[z_e] − e||² is part of the returned loss and the optimiser
    /// moves <c>embedding.weight</c> (VQ-VAE, van den Oord et al. 2017, eq. 3; diffusers' VectorQuantizer).
    /// </summary>
    Gradient,

    /// <summary>
    /// By exponential moving averages of the assigned encoder outputs (VQ-VAE appendix A.1; sonnet's
    /// VectorQuantizerEMA): the codebook receives no gradient and the loss is the commitment term only.
    /// </summary>
    Ema,
}
