using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DDIMScheduler config (scheduler_config.json), every field with the reference's default;
/// the fields every scheduler shares are in <see cref="SchedulerConfig"/>.
/// </summary>
public sealed record DDIMSchedulerConfig : SchedulerConfig
{
    /// <summary>A config with the reference's defaults.</summary>
    public DDIMSchedulerConfig() => ClassName = "DDIMScheduler";

    /// <summary>Clip predicted x_0 to [-clip_sample_range, clip_sample_range] (ignored when thresholding).</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; } = true;
    [JsonPropertyName("clip_sample_range")] public double ClipSampleRange { get; init; } = 1.0;
    /// <summary>alpha_bar after the last step: 1 when true, else alpha_bar_0.</summary>
    [JsonPropertyName("set_alpha_to_one")] public bool SetAlphaToOne { get; init; } = true;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    /// <summary>Dynamic thresholding of predicted x_0 (Imagen); replaces clipping when on.</summary>
    [JsonPropertyName("thresholding")] public bool Thresholding { get; init; }
    [JsonPropertyName("dynamic_thresholding_ratio")] public double DynamicThresholdingRatio { get; init; } = 0.995;
    [JsonPropertyName("sample_max_value")] public double SampleMaxValue { get; init; } = 1.0;
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;
    /// <summary>Rescale betas to zero terminal SNR (Lin et al. 2023).</summary>
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">beta_schedule, prediction_type or timestep_spacing is unknown; the message lists the allowed values.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static DDIMSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<DDIMSchedulerConfig>(json);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static DDIMSchedulerConfig Load(string path) => SchedulerConfigJson.Load<DDIMSchedulerConfig>(path);
}
