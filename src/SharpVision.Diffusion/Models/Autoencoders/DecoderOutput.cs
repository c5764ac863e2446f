namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>What an autoencoder's decode returns (diffusers' <c>DecoderOutput</c>).</summary>
/// <param name="Sample">(B, C_out, H, W) the decoded image.</param>
/// <param name="CommitLoss">VQModel: () the quantizer loss (codebook + commitment), or (B) zeros when decoding without
/// quantizing; null for AutoencoderKL.</param>
public sealed record DecoderOutput(Tensor Sample, Tensor? CommitLoss);
