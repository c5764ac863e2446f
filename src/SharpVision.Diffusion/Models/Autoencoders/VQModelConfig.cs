using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// diffusers' <c>VQModel</c> config: JSON names are the config.json keys, defaults those of diffusers
/// (models/autoencoders/vq_model.py). Keys not modelled (<c>_class_name</c>, <c>_diffusers_version</c>, …) are kept.
/// </summary>
public sealed record VQModelConfig : AutoencoderConfig
{
    /// <summary>Channels of the encoder output and decoder input.</summary>
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 3;
    /// <summary>Image size the model was trained at; informational.</summary>
    [JsonPropertyName("sample_size")] public int SampleSize { get; init; } = 32;
    /// <summary>Codebook size n_e.</summary>
    [JsonPropertyName("num_vq_embeddings")] public int NumVqEmbeddings { get; init; } = 256;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    /// <summary>Code dimension (quant_conv maps latent_channels to it); null: latent_channels.</summary>
    [JsonPropertyName("vq_embed_dim")] public int? VqEmbedDim { get; init; }
    /// <summary>Latents are multiplied by this before diffusion and divided by it after; informational here.</summary>
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 0.18215;
    [JsonPropertyName("norm_type")] public DecoderNormType NormType { get; init; } = DecoderNormType.Group;
    [JsonPropertyName("mid_block_add_attention")] public bool MidBlockAddAttention { get; init; } = true;
    /// <summary>With force_not_quantize, decode treats its input as code indices and looks them up.</summary>
    [JsonPropertyName("lookup_from_codebook")] public bool LookupFromCodebook { get; init; }
    /// <summary>Pipelines run this model in float32 even when the rest is float16; informational here.</summary>
    [JsonPropertyName("force_upcast")] public bool ForceUpcast { get; init; }

    /// <summary>Keys not modelled above, kept for the round trip.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>The code dimension: vq_embed_dim or latent_channels.</summary>
    [JsonIgnore] public int EmbedDim => VqEmbedDim ?? LatentChannels;

    /// <summary>Parses a config.json text.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an unknown option (the message lists the allowed values).</exception>
    public static VQModelConfig FromJson(string json, string source = "config.json") => DiffusersJson.Read<VQModelConfig>(json, source);

    /// <summary>Reads a config.json file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static VQModelConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"VQModel config not found: {path}", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>config.json text: keys sorted, unknown keys included.</summary>
    public string ToJson() => DiffusersJson.Write(this);
}
