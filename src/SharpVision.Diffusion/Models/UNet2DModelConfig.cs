using System.Text.Json;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.Models.Blocks;

namespace SharpVision.Diffusion.Models;

/// <summary>Down block types of a UNet2DModel config (<c>down_block_types</c>).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<DownBlockType>))]
public enum DownBlockType
{
    [JsonStringEnumMemberName("DownBlock2D")] DownBlock2D,
    [JsonStringEnumMemberName("AttnDownBlock2D")] AttnDownBlock2D,
    [JsonStringEnumMemberName("ResnetDownsampleBlock2D")] ResnetDownsampleBlock2D,
}

/// <summary>Up block types of a UNet2DModel config (<c>up_block_types</c>).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<UpBlockType>))]
public enum UpBlockType
{
    [JsonStringEnumMemberName("UpBlock2D")] UpBlock2D,
    [JsonStringEnumMemberName("AttnUpBlock2D")] AttnUpBlock2D,
    [JsonStringEnumMemberName("ResnetUpsampleBlock2D")] ResnetUpsampleBlock2D,
}

/// <summary>Mid block types (<c>mid_block_type</c>; null in the config means no mid block).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<MidBlockType>))]
public enum MidBlockType
{
    [JsonStringEnumMemberName("UNetMidBlock2D")] UNetMidBlock2D,
}

/// <summary>How timesteps become features (<c>time_embedding_type</c>).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<TimeEmbeddingType>))]
public enum TimeEmbeddingType
{
    /// <summary>Sinusoidal features (<see cref="Timesteps"/>).</summary>
    [JsonStringEnumMemberName("positional")] Positional,
    /// <summary>Gaussian Fourier features of log σ (<see cref="GaussianFourierProjection"/>, scale 16); the output is divided by σ.</summary>
    [JsonStringEnumMemberName("fourier")] Fourier,
    /// <summary>A learned table of <c>num_train_timesteps</c> rows.</summary>
    [JsonStringEnumMemberName("learned")] Learned,
}

/// <summary>How class labels are embedded when <c>class_embed_type</c> is set (null with <c>num_class_embeds</c>: a lookup table).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<ClassEmbedType>))]
public enum ClassEmbedType
{
    /// <summary>Labels are timesteps: the same time projection, then their own <see cref="TimestepEmbedding"/>.</summary>
    [JsonStringEnumMemberName("timestep")] Timestep,
    /// <summary>Labels are already embeddings of width time_embed_dim.</summary>
    [JsonStringEnumMemberName("identity")] Identity,
}

/// <summary>
/// diffusers' <c>UNet2DModel</c> config: JSON names are the config.json keys, defaults those of diffusers
/// (models/unets/unet_2d.py). Keys this class does not model (<c>_class_name</c>, <c>_diffusers_version</c>, …) are kept.
/// </summary>
public sealed record UNet2DModelConfig
{
    /// <summary>Height and width of samples: one value (square) or [height, width]; informational.</summary>
    [JsonPropertyName("sample_size"), JsonConverter(typeof(SampleSizeConverter))] public int[]? SampleSize { get; init; }
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    /// <summary>Map inputs from [0, 1] to [-1, 1] first.</summary>
    [JsonPropertyName("center_input_sample")] public bool CenterInputSample { get; init; }
    [JsonPropertyName("time_embedding_type")] public TimeEmbeddingType TimeEmbeddingType { get; init; } = TimeEmbeddingType.Positional;
    /// <summary>Width of the time embedding (default 4 × block_out_channels[0]).</summary>
    [JsonPropertyName("time_embedding_dim")] public int? TimeEmbeddingDim { get; init; }
    [JsonPropertyName("freq_shift")] public double FreqShift { get; init; }
    [JsonPropertyName("flip_sin_to_cos")] public bool FlipSinToCos { get; init; } = true;
    [JsonPropertyName("down_block_types")] public IReadOnlyList<DownBlockType> DownBlockTypes { get; init; } =
        [DownBlockType.DownBlock2D, DownBlockType.AttnDownBlock2D, DownBlockType.AttnDownBlock2D, DownBlockType.AttnDownBlock2D];
    [JsonPropertyName("mid_block_type")] public MidBlockType? MidBlockType { get; init; } = Models.MidBlockType.UNetMidBlock2D;
    [JsonPropertyName("up_block_types")] public IReadOnlyList<UpBlockType> UpBlockTypes { get; init; } =
        [UpBlockType.AttnUpBlock2D, UpBlockType.AttnUpBlock2D, UpBlockType.AttnUpBlock2D, UpBlockType.UpBlock2D];
    [JsonPropertyName("block_out_channels")] public IReadOnlyList<int> BlockOutChannels { get; init; } = [224, 448, 672, 896];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 2;
    [JsonPropertyName("mid_block_scale_factor")] public double MidBlockScaleFactor { get; init; } = 1;
    [JsonPropertyName("downsample_padding")] public int DownsamplePadding { get; init; } = 1;
    [JsonPropertyName("downsample_type")] public DownsampleType DownsampleType { get; init; } = DownsampleType.Conv;
    [JsonPropertyName("upsample_type")] public UpsampleType UpsampleType { get; init; } = UpsampleType.Conv;
    /// <summary>Dropout probability inside resnets (inactive in eval mode).</summary>
    [JsonPropertyName("dropout")] public double Dropout { get; init; }
    [JsonPropertyName("act_fn")] public ActivationFunction ActFn { get; init; } = ActivationFunction.Silu;
    /// <summary>Channels per attention head (null: one head per block).</summary>
    [JsonPropertyName("attention_head_dim")] public int? AttentionHeadDim { get; init; } = 8;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    /// <summary>Groups of the mid block attention's GroupNorm (null: norm_num_groups for default scale-shift, no norm for scale_shift).</summary>
    [JsonPropertyName("attn_norm_num_groups")] public int? AttnNormNumGroups { get; init; }
    [JsonPropertyName("norm_eps")] public double NormEps { get; init; } = 1e-5;
    [JsonPropertyName("resnet_time_scale_shift")] public ResnetTimeScaleShift ResnetTimeScaleShift { get; init; } = ResnetTimeScaleShift.Default;
    [JsonPropertyName("add_attention")] public bool AddAttention { get; init; } = true;
    [JsonPropertyName("class_embed_type")] public ClassEmbedType? ClassEmbedType { get; init; }
    /// <summary>Size of the class lookup table (with class_embed_type null).</summary>
    [JsonPropertyName("num_class_embeds")] public int? NumClassEmbeds { get; init; }
    /// <summary>Rows of the learned time table (time_embedding_type learned).</summary>
    [JsonPropertyName("num_train_timesteps")] public int? NumTrainTimesteps { get; init; }

    /// <summary>Keys not modelled above, kept for the round trip.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Width of the time embedding: time_embedding_dim or 4 × block_out_channels[0].</summary>
    [JsonIgnore] public int TimeEmbedDim => TimeEmbeddingDim ?? BlockOutChannels[0] * 4;

    /// <summary>Parses a config.json text.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an unknown option (the message lists the allowed values).</exception>
    public static UNet2DModelConfig FromJson(string json, string source = "config.json") => DiffusersJson.Read<UNet2DModelConfig>(json, source);

    /// <summary>Reads a config.json file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static UNet2DModelConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"UNet2DModel config not found: {path}", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>config.json text: keys sorted, unknown keys included.</summary>
    public string ToJson() => DiffusersJson.Write(this);
}
