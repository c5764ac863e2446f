using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// diffusers' <c>AutoencoderKL</c> config (Stable Diffusion's VAE family): JSON names are the config.json keys, defaults
/// those of diffusers (models/autoencoders/autoencoder_kl.py). Keys not modelled are kept.
/// </summary>
public sealed record AutoencoderKLConfig : AutoencoderConfig
{
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 4;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    /// <summary>Image size the model was trained at: one int or [height, width]; informational.</summary>
    [JsonPropertyName("sample_size"), JsonConverter(typeof(SampleSizeConverter))] public int[]? SampleSize { get; init; } = [32];
    /// <summary>Latents are multiplied by this before diffusion (and divided after).</summary>
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 0.18215;
    /// <summary>Subtracted from latents before scaling (SD3/Flux VAEs); null: none.</summary>
    [JsonPropertyName("shift_factor")] public double? ShiftFactor { get; init; }
    [JsonPropertyName("latents_mean")] public IReadOnlyList<double>? LatentsMean { get; init; }
    [JsonPropertyName("latents_std")] public IReadOnlyList<double>? LatentsStd { get; init; }
    /// <summary>Pipelines run this model in float32 even when the rest is float16; informational here.</summary>
    [JsonPropertyName("force_upcast")] public bool ForceUpcast { get; init; } = true;
    [JsonPropertyName("use_quant_conv")] public bool UseQuantConv { get; init; } = true;
    [JsonPropertyName("use_post_quant_conv")] public bool UsePostQuantConv { get; init; } = true;
    [JsonPropertyName("mid_block_add_attention")] public bool MidBlockAddAttention { get; init; } = true;

    /// <summary>Keys not modelled above, kept for the round trip.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Parses a config.json text.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an unknown option (the message lists the allowed values).</exception>
    public static AutoencoderKLConfig FromJson(string json, string source = "config.json") => DiffusersJson.Read<AutoencoderKLConfig>(json, source);

    /// <summary>Reads a config.json file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static AutoencoderKLConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"AutoencoderKL config not found: {path}", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>config.json text: keys sorted, unknown keys included.</summary>
    public string ToJson() => DiffusersJson.Write(this);
}
