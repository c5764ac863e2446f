using SharpVision.Diffusion.Models.Autoencoders;

namespace SharpVision.Experiments.VQVAE;

/// <summary>
/// The VQ-VAE (diffusers' VQModel) of the Fashion-MNIST recipe, declared once for <c>sharpvision vqvae</c> and the tour:
/// one-channel 28×28 images padded to 32×32, three stages of one ResNet block each (32×32 input -> 8×8 latents), a
/// codebook of 64 codes of dimension 8.
/// </summary>
public sealed record VQVAEArchitecture
{
    /// <summary>Fashion-MNIST's 28×28 images are padded by this much on each side to 32×32 (three stages halve it to 8×8 latents).</summary>
    public const int Padding = 2;

    /// <summary>The padded input side, 28 + 2 · <see cref="Padding"/>.</summary>
    public const int ImageSize = 28 + 2 * Padding;

    /// <summary>block_out_channels: one encoder (and decoder) stage per entry.</summary>
    public int[] BlockOutChannels { get; init; } = [16, 32, 64];

    /// <summary>norm_num_groups; divides every entry of <see cref="BlockOutChannels"/>.</summary>
    public int NormNumGroups { get; init; } = 8;

    /// <summary>latent_channels, the dimension of a code.</summary>
    public int LatentChannels { get; init; } = 8;

    /// <summary>num_vq_embeddings, the codebook size.</summary>
    public int NumVqEmbeddings { get; init; } = 64;

    /// <summary>mid_block_add_attention.</summary>
    public bool MidBlockAddAttention { get; init; } = true;

    /// <summary>The VQModel configuration of this architecture.</summary>
    public VQModelConfig ToConfig() => new()
    {
        InChannels = 1, OutChannels = 1, SampleSize = ImageSize, BlockOutChannels = BlockOutChannels, LayersPerBlock = 1, NormNumGroups = NormNumGroups,
        LatentChannels = LatentChannels, NumVqEmbeddings = NumVqEmbeddings, MidBlockAddAttention = MidBlockAddAttention,
        DownBlockTypes = BlockOutChannels.Select(_ => EncoderBlockType.DownEncoderBlock2D).ToArray(),
        UpBlockTypes = BlockOutChannels.Select(_ => DecoderBlockType.UpDecoderBlock2D).ToArray(),
    };
}
