using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>Encoder stage types of an autoencoder config (<c>down_block_types</c>).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<EncoderBlockType>))]
public enum EncoderBlockType
{
    [JsonStringEnumMemberName("DownEncoderBlock2D")] DownEncoderBlock2D,
}

/// <summary>Decoder stage types of an autoencoder config (<c>up_block_types</c>).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<DecoderBlockType>))]
public enum DecoderBlockType
{
    [JsonStringEnumMemberName("UpDecoderBlock2D")] UpDecoderBlock2D,
}

/// <summary>Decoder normalisation (<c>norm_type</c>): GroupNorm, or MoVQ's SpatialNorm conditioned on the quantized latents.</summary>
[JsonConverter(typeof(ExactNameEnumConverter<DecoderNormType>))]
public enum DecoderNormType
{
    [JsonStringEnumMemberName("group")] Group,
    /// <summary>MoVQ's SpatialNorm; parsed so configs round-trip, but models cannot be built with it.</summary>
    [JsonStringEnumMemberName("spatial")] Spatial,
}
