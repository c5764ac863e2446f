using System.Text.Json;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.Models;

namespace SharpVision.Diffusion.Clip;

/// <summary>The activation inside CLIP's MLP (transformers' <c>hidden_act</c>).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<CLIPHiddenAct>))]
public enum CLIPHiddenAct
{
    /// <summary>x·σ(1.702·x), OpenAI CLIP's (SD 1.x).</summary>
    [JsonStringEnumMemberName("quick_gelu")] QuickGelu,
    /// <summary>Exact (erf) GELU, OpenCLIP's (SD 2.x, SDXL's second encoder).</summary>
    [JsonStringEnumMemberName("gelu")] Gelu,
}

/// <summary>
/// transformers' <c>CLIPTextConfig</c> (models/clip/configuration_clip.py): JSON names are the config.json keys,
/// defaults transformers'. Keys not modelled (architectures, torch_dtype, dropout, ...) are kept.
/// </summary>
public sealed record CLIPTextConfig
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 49408;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 512;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 2048;
    /// <summary>Width of <c>text_projection</c>'s output (<see cref="CLIPTextModelWithProjection"/>).</summary>
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;
    /// <summary>Longest token sequence (rows of the position embedding).</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 77;
    [JsonPropertyName("hidden_act")] public CLIPHiddenAct HiddenAct { get; init; } = CLIPHiddenAct.QuickGelu;
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 1;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 49406;
    /// <summary>
    /// Where the pooled output is taken: the first position holding this id — except the legacy value 2 of old
    /// configs, for which transformers takes the position of the largest id (the end-of-text token of CLIP's vocabulary).
    /// </summary>
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 49407;

    /// <summary>Keys not modelled above, kept for the round trip.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Parses a config.json text.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an unknown hidden_act (the message lists the allowed values).</exception>
    public static CLIPTextConfig FromJson(string json, string source = "config.json") => DiffusersJson.Read<CLIPTextConfig>(json, source);

    /// <summary>Reads a config.json file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">See <see cref="FromJson"/>.</exception>
    public static CLIPTextConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP text config not found: {path}", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>config.json text: keys sorted (transformers' <c>to_json_string</c>), unknown keys included.</summary>
    public string ToJson() => DiffusersJson.Write(this);

    /// <exception cref="ArgumentException">A size below 1, or hidden_size not divisible by num_attention_heads.</exception>
    internal void Validate(string paramName)
    {
        if (VocabSize < 1 || HiddenSize < 1 || IntermediateSize < 1 || ProjectionDim < 1 || NumHiddenLayers < 1 ||
            NumAttentionHeads < 1 || MaxPositionEmbeddings < 1)
            throw new ArgumentException("vocab_size, hidden_size, intermediate_size, projection_dim, num_hidden_layers, " +
                                        "num_attention_heads and max_position_embeddings must be >= 1", paramName);
        if (HiddenSize % NumAttentionHeads != 0)
            throw new ArgumentException($"hidden_size ({HiddenSize}) must be divisible by num_attention_heads ({NumAttentionHeads})", paramName);
    }
}
