using System.Text.Json.Serialization;
using SharpVision.Diffusion.Models.Blocks;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// The config.json fields of the <see cref="Encoder"/>/<see cref="Decoder"/> pair that diffusers' <c>AutoencoderKL</c> and
/// <c>VQModel</c> share, with the defaults both give them.
/// </summary>
public abstract record AutoencoderConfig
{
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("down_block_types")] public IReadOnlyList<EncoderBlockType> DownBlockTypes { get; init; } = [EncoderBlockType.DownEncoderBlock2D];
    [JsonPropertyName("up_block_types")] public IReadOnlyList<DecoderBlockType> UpBlockTypes { get; init; } = [DecoderBlockType.UpDecoderBlock2D];
    [JsonPropertyName("block_out_channels")] public IReadOnlyList<int> BlockOutChannels { get; init; } = [64];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("act_fn")] public ActivationFunction ActFn { get; init; } = ActivationFunction.Silu;
}
