namespace SharpVision.Diffusion.Quantization;

/// <summary>What <see cref="VectorQuantizer"/> returns for one batch.</summary>
/// <param name="Quantized">(B, C, H, W) z + sg(z_q − z): the codes' values forward, the identity backward.</param>
/// <param name="Loss">() CodebookLoss + CommitmentLoss.</param>
/// <param name="CodebookLoss">() the weighted codebook term (gradient to the codebook only); zero under EMA updates.</param>
/// <param name="CommitmentLoss">() the weighted commitment term (gradient to the encoder output only).</param>
/// <param name="Indices">(B, H, W) int64 index of the nearest code of each position (diffusers' sane_index_shape).</param>
/// <param name="Perplexity">() exp of the entropy of the batch's code histogram: 1 when one code is used, n_e when all are used equally.</param>
/// <param name="Usage">() fraction of the n_e codes used at least once in the batch.</param>
public sealed record VectorQuantizerOutput(
    Tensor Quantized,
    Tensor Loss,
    Tensor CodebookLoss,
    Tensor CommitmentLoss,
    Tensor Indices,
    Tensor Perplexity,
    Tensor Usage);
