using System.Text.Json;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.Models.Blocks;

namespace SharpVision.Diffusion.Models;

/// <summary>Down block types of a UNet2DConditionModel / ControlNetModel config.</summary>
[JsonConverter(typeof(ExactNameEnumConverter<ConditionDownBlockType>))]
public enum ConditionDownBlockType
{
    [JsonStringEnumMemberName("CrossAttnDownBlock2D")] CrossAttnDownBlock2D,
    [JsonStringEnumMemberName("DownBlock2D")] DownBlock2D,
}

/// <summary>Up block types of a UNet2DConditionModel config.</summary>
[JsonConverter(typeof(ExactNameEnumConverter<ConditionUpBlockType>))]
public enum ConditionUpBlockType
{
    [JsonStringEnumMemberName("CrossAttnUpBlock2D")] CrossAttnUpBlock2D,
    [JsonStringEnumMemberName("UpBlock2D")] UpBlock2D,
}

/// <summary>Mid block type of a UNet2DConditionModel / ControlNetModel config (null: no mid block).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<ConditionMidBlockType>))]
public enum ConditionMidBlockType
{
    [JsonStringEnumMemberName("UNetMidBlock2DCrossAttn")] UNetMidBlock2DCrossAttn,
}

/// <summary>
/// A diffusers per-block option that is either one int for every block or a list with one value per block;
/// a one-element list is written back as the int.
/// </summary>
public sealed class IntOrListConverter : JsonConverter<int[]?>
{
    /// <inheritdoc/>
    public override bool HandleNull => true;

    /// <inheritdoc/>
    public override int[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => [reader.GetInt32()],
        JsonTokenType.StartArray => JsonSerializer.Deserialize<int[]>(ref reader, options),
        _ => throw new JsonException("expected an int or a list of ints"),
    };

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, int[]? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else if (value.Length == 1) writer.WriteNumberValue(value[0]);
        else JsonSerializer.Serialize(writer, value, options);
    }
}

/// <summary>
/// diffusers' <c>UNet2DConditionModel</c> config (models/unets/unet_2d_condition.py), the subset Stable-Diffusion-style
/// UNets use: JSON names are the config.json keys, defaults those of diffusers. Other keys are kept in <see cref="Extra"/>;
/// the model accepts them only at their neutral values (null/false/default), see <see cref="ConfigChecks"/>.
/// </summary>
public sealed record UNet2DConditionModelConfig
{
    [JsonPropertyName("sample_size"), JsonConverter(typeof(SampleSizeConverter))] public int[]? SampleSize { get; init; }
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 4;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("center_input_sample")] public bool CenterInputSample { get; init; }
    [JsonPropertyName("flip_sin_to_cos")] public bool FlipSinToCos { get; init; } = true;
    [JsonPropertyName("freq_shift")] public double FreqShift { get; init; }
    [JsonPropertyName("down_block_types")] public IReadOnlyList<ConditionDownBlockType> DownBlockTypes { get; init; } =
        [ConditionDownBlockType.CrossAttnDownBlock2D, ConditionDownBlockType.CrossAttnDownBlock2D, ConditionDownBlockType.CrossAttnDownBlock2D, ConditionDownBlockType.DownBlock2D];
    [JsonPropertyName("mid_block_type")] public ConditionMidBlockType? MidBlockType { get; init; } = ConditionMidBlockType.UNetMidBlock2DCrossAttn;
    [JsonPropertyName("up_block_types")] public IReadOnlyList<ConditionUpBlockType> UpBlockTypes { get; init; } =
        [ConditionUpBlockType.UpBlock2D, ConditionUpBlockType.CrossAttnUpBlock2D, ConditionUpBlockType.CrossAttnUpBlock2D, ConditionUpBlockType.CrossAttnUpBlock2D];
    /// <summary>Only false is supported (self-attention in attn1).</summary>
    [JsonPropertyName("only_cross_attention")] public bool OnlyCrossAttention { get; init; }
    [JsonPropertyName("block_out_channels")] public IReadOnlyList<int> BlockOutChannels { get; init; } = [320, 640, 1280, 1280];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 2;
    [JsonPropertyName("downsample_padding")] public int DownsamplePadding { get; init; } = 1;
    [JsonPropertyName("mid_block_scale_factor")] public double MidBlockScaleFactor { get; init; } = 1;
    [JsonPropertyName("dropout")] public double Dropout { get; init; }
    [JsonPropertyName("act_fn")] public ActivationFunction ActFn { get; init; } = ActivationFunction.Silu;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("norm_eps")] public double NormEps { get; init; } = 1e-5;
    /// <summary>Width of the encoder hidden states (one value for every block).</summary>
    [JsonPropertyName("cross_attention_dim")] public int CrossAttentionDim { get; init; } = 1280;
    /// <summary>Transformer blocks per spatial transformer: one value or one per block.</summary>
    [JsonPropertyName("transformer_layers_per_block"), JsonConverter(typeof(IntOrListConverter))] public int[]? TransformerLayersPerBlock { get; init; } = [1];
    /// <summary>Despite its name, the number of attention heads (diffusers' historical naming) unless num_attention_heads is set.</summary>
    [JsonPropertyName("attention_head_dim"), JsonConverter(typeof(IntOrListConverter))] public int[]? AttentionHeadDim { get; init; } = [8];
    [JsonPropertyName("num_attention_heads"), JsonConverter(typeof(IntOrListConverter))] public int[]? NumAttentionHeads { get; init; }
    [JsonPropertyName("use_linear_projection")] public bool UseLinearProjection { get; init; }
    [JsonPropertyName("upcast_attention")] public bool UpcastAttention { get; init; }
    [JsonPropertyName("resnet_time_scale_shift")] public ResnetTimeScaleShift ResnetTimeScaleShift { get; init; } = ResnetTimeScaleShift.Default;
    [JsonPropertyName("time_embedding_dim")] public int? TimeEmbeddingDim { get; init; }
    [JsonPropertyName("conv_in_kernel")] public int ConvInKernel { get; init; } = 3;
    [JsonPropertyName("conv_out_kernel")] public int ConvOutKernel { get; init; } = 3;

    /// <summary>Keys not modelled above, kept for the round trip.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Width of the time embedding: time_embedding_dim or 4 × block_out_channels[0].</summary>
    [JsonIgnore] public int TimeEmbedDim => TimeEmbeddingDim ?? BlockOutChannels[0] * 4;

    /// <summary>Parses a config.json text.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an unknown option (the message lists the allowed values).</exception>
    public static UNet2DConditionModelConfig FromJson(string json, string source = "config.json") => DiffusersJson.Read<UNet2DConditionModelConfig>(json, source);

    /// <summary>Reads a config.json file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static UNet2DConditionModelConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"UNet2DConditionModel config not found: {path}", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>config.json text: keys sorted, unknown keys included.</summary>
    public string ToJson() => DiffusersJson.Write(this);
}

/// <summary>Checks that config keys this library does not implement hold their neutral value.</summary>
public static class ConfigChecks
{
    /// <summary>Keys that must be null (absent counts as null).</summary>
    public static readonly IReadOnlyList<string> MustBeNull =
    [
        "addition_embed_type", "addition_time_embed_dim", "class_embed_type", "num_class_embeds", "encoder_hid_dim", "encoder_hid_dim_type",
        "time_cond_proj_dim", "timestep_post_act", "time_embedding_act_fn", "cross_attention_norm", "projection_class_embeddings_input_dim",
        "reverse_transformer_layers_per_block", "mid_block_only_cross_attention",
    ];

    /// <summary>Keys with the only value supported (absent counts as that value).</summary>
    public static readonly IReadOnlyDictionary<string, object> MustEqual = new Dictionary<string, object>(StringComparer.Ordinal)
    {
        ["dual_cross_attention"] = false,
        ["class_embeddings_concat"] = false,
        ["resnet_skip_time_act"] = false,
        ["resnet_out_scale_factor"] = 1.0,
        ["attention_type"] = "default",
        ["time_embedding_type"] = "positional",
        ["global_pool_conditions"] = false,
    };

    /// <summary>Throws when an unsupported feature is switched on in <paramref name="extra"/>.</summary>
    /// <exception cref="NotSupportedException">The key, its value and the supported value.</exception>
    public static void RequireNeutral(IReadOnlyDictionary<string, JsonElement>? extra, string model)
    {
        if (extra is null) return;
        foreach (var key in MustBeNull)
            if (extra.TryGetValue(key, out var v) && v.ValueKind != JsonValueKind.Null)
                throw new NotSupportedException($"{model}: {key} = {v.GetRawText()} is not supported; only null");
        foreach (var (key, want) in MustEqual)
        {
            if (!extra.TryGetValue(key, out var v) || v.ValueKind == JsonValueKind.Null) continue;
            bool ok = want switch
            {
                bool b => v.ValueKind == (b ? JsonValueKind.True : JsonValueKind.False),
                double d => v.ValueKind == JsonValueKind.Number && v.GetDouble() == d,
                string s => v.ValueKind == JsonValueKind.String && v.GetString() == s,
                _ => false,
            };
            if (!ok) throw new NotSupportedException($"{model}: {key} = {v.GetRawText()} is not supported; only {JsonSerializer.Serialize(want)}");
        }
    }
}
