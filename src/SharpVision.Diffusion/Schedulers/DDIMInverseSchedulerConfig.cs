using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DDIMInverseScheduler config (scheduler_config.json), every field with the reference's default;
/// the fields every scheduler shares are in <see cref="SchedulerConfig"/>.
/// </summary>
public sealed record DDIMInverseSchedulerConfig : SchedulerConfig
{
    /// <summary>A config with the reference's defaults.</summary>
    public DDIMInverseSchedulerConfig() => ClassName = "DDIMInverseScheduler";

    /// <summary>Clip predicted x_0 to [-clip_sample_range, clip_sample_range].</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; } = true;
    [JsonPropertyName("clip_sample_range")] public double ClipSampleRange { get; init; } = 1.0;
    /// <summary>alpha_bar before the first step (the clean sample's): 1 when true, else alpha_bar_0.</summary>
    [JsonPropertyName("set_alpha_to_one")] public bool SetAlphaToOne { get; init; } = true;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;
    /// <summary>Rescale betas to zero terminal SNR (Lin et al. 2023).</summary>
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">beta_schedule, prediction_type or timestep_spacing is unknown; the message lists the allowed values.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static DDIMInverseSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<DDIMInverseSchedulerConfig>(json);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static DDIMInverseSchedulerConfig Load(string path) => SchedulerConfigJson.Load<DDIMInverseSchedulerConfig>(path);
}
