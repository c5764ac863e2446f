using System.Text.Json;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Blocks;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>Channel order of the condition image (<c>controlnet_conditioning_channel_order</c>); bgr images are flipped to rgb first.</summary>
[JsonConverter(typeof(ExactNameEnumConverter<ConditioningChannelOrder>))]
public enum ConditioningChannelOrder
{
    [JsonStringEnumMemberName("rgb")] Rgb,
    [JsonStringEnumMemberName("bgr")] Bgr,
}

/// <summary>
/// diffusers' <c>ControlNetModel</c> config (models/controlnets/controlnet.py), the subset matching
/// <see cref="UNet2DConditionModelConfig"/>: JSON names are the config.json keys, defaults those of diffusers. Other keys
/// are kept in <see cref="Extra"/> and accepted only at their neutral values.
/// </summary>
public sealed record ControlNetModelConfig
{
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 4;
    /// <summary>Channels of the condition image.</summary>
    [JsonPropertyName("conditioning_channels")] public int ConditioningChannels { get; init; } = 3;
    [JsonPropertyName("flip_sin_to_cos")] public bool FlipSinToCos { get; init; } = true;
    [JsonPropertyName("freq_shift")] public double FreqShift { get; init; }
    [JsonPropertyName("down_block_types")] public IReadOnlyList<ConditionDownBlockType> DownBlockTypes { get; init; } =
        [ConditionDownBlockType.CrossAttnDownBlock2D, ConditionDownBlockType.CrossAttnDownBlock2D, ConditionDownBlockType.CrossAttnDownBlock2D, ConditionDownBlockType.DownBlock2D];
    [JsonPropertyName("mid_block_type")] public ConditionMidBlockType? MidBlockType { get; init; } = ConditionMidBlockType.UNetMidBlock2DCrossAttn;
    /// <summary>Only false is supported.</summary>
    [JsonPropertyName("only_cross_attention")] public bool OnlyCrossAttention { get; init; }
    [JsonPropertyName("block_out_channels")] public IReadOnlyList<int> BlockOutChannels { get; init; } = [320, 640, 1280, 1280];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 2;
    [JsonPropertyName("downsample_padding")] public int DownsamplePadding { get; init; } = 1;
    [JsonPropertyName("mid_block_scale_factor")] public double MidBlockScaleFactor { get; init; } = 1;
    [JsonPropertyName("act_fn")] public ActivationFunction ActFn { get; init; } = ActivationFunction.Silu;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("norm_eps")] public double NormEps { get; init; } = 1e-5;
    [JsonPropertyName("cross_attention_dim")] public int CrossAttentionDim { get; init; } = 1280;
    [JsonPropertyName("transformer_layers_per_block"), JsonConverter(typeof(IntOrListConverter))] public int[]? TransformerLayersPerBlock { get; init; } = [1];
    /// <summary>The number of attention heads unless num_attention_heads is set (diffusers' historical naming).</summary>
    [JsonPropertyName("attention_head_dim"), JsonConverter(typeof(IntOrListConverter))] public int[]? AttentionHeadDim { get; init; } = [8];
    [JsonPropertyName("num_attention_heads"), JsonConverter(typeof(IntOrListConverter))] public int[]? NumAttentionHeads { get; init; }
    [JsonPropertyName("use_linear_projection")] public bool UseLinearProjection { get; init; }
    [JsonPropertyName("upcast_attention")] public bool UpcastAttention { get; init; }
    [JsonPropertyName("resnet_time_scale_shift")] public ResnetTimeScaleShift ResnetTimeScaleShift { get; init; } = ResnetTimeScaleShift.Default;
    [JsonPropertyName("controlnet_conditioning_channel_order")] public ConditioningChannelOrder ControlNetConditioningChannelOrder { get; init; } = ConditioningChannelOrder.Rgb;
    /// <summary>Stage widths of the conditioning embedding.</summary>
    [JsonPropertyName("conditioning_embedding_out_channels")] public IReadOnlyList<int> ConditioningEmbeddingOutChannels { get; init; } = [16, 32, 96, 256];
    /// <summary>Only false is supported (residuals keep their spatial extent).</summary>
    [JsonPropertyName("global_pool_conditions")] public bool GlobalPoolConditions { get; init; }

    /// <summary>Keys not modelled above, kept for the round trip.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Parses a config.json text.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an unknown option.</exception>
    public static ControlNetModelConfig FromJson(string json, string source = "config.json") => DiffusersJson.Read<ControlNetModelConfig>(json, source);

    /// <summary>Reads a config.json file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ControlNetModelConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ControlNetModel config not found: {path}", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>config.json text: keys sorted, unknown keys included.</summary>
    public string ToJson() => DiffusersJson.Write(this);

    /// <summary>The ControlNet config for <paramref name="unet"/>'s encoder (what diffusers' <c>from_unet</c> copies).</summary>
    public static ControlNetModelConfig FromUNetConfig(UNet2DConditionModelConfig unet, IReadOnlyList<int>? conditioningEmbeddingOutChannels = null,
        int conditioningChannels = 3, ConditioningChannelOrder channelOrder = ConditioningChannelOrder.Rgb)
    {
        ArgumentNullException.ThrowIfNull(unet);
        return new ControlNetModelConfig
        {
            InChannels = unet.InChannels,
            ConditioningChannels = conditioningChannels,
            FlipSinToCos = unet.FlipSinToCos,
            FreqShift = unet.FreqShift,
            DownBlockTypes = unet.DownBlockTypes,
            MidBlockType = unet.MidBlockType,
            OnlyCrossAttention = unet.OnlyCrossAttention,
            BlockOutChannels = unet.BlockOutChannels,
            LayersPerBlock = unet.LayersPerBlock,
            DownsamplePadding = unet.DownsamplePadding,
            MidBlockScaleFactor = unet.MidBlockScaleFactor,
            ActFn = unet.ActFn,
            NormNumGroups = unet.NormNumGroups,
            NormEps = unet.NormEps,
            CrossAttentionDim = unet.CrossAttentionDim,
            TransformerLayersPerBlock = unet.TransformerLayersPerBlock,
            AttentionHeadDim = unet.AttentionHeadDim,
            NumAttentionHeads = unet.NumAttentionHeads,
            UseLinearProjection = unet.UseLinearProjection,
            UpcastAttention = unet.UpcastAttention,
            ResnetTimeScaleShift = unet.ResnetTimeScaleShift,
            ControlNetConditioningChannelOrder = channelOrder,
            ConditioningEmbeddingOutChannels = conditioningEmbeddingOutChannels ?? [16, 32, 96, 256],
        };
    }
}
