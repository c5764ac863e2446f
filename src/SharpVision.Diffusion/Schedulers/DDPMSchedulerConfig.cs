using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DDPMScheduler config (scheduler_config.json), every field with the reference's default;
/// the fields every scheduler shares are in <see cref="SchedulerConfig"/>.
/// </summary>
public sealed record DDPMSchedulerConfig : SchedulerConfig
{
    /// <summary>A config with the reference's defaults.</summary>
    public DDPMSchedulerConfig() => ClassName = "DDPMScheduler";

    /// <summary>The reverse step's variance: fixed_small (posterior variance) or fixed_large (beta_t), or learned by the model.</summary>
    [JsonPropertyName("variance_type")] public DDPMVarianceType VarianceType { get; init; } = DDPMVarianceType.FixedSmall;
    /// <summary>Clip predicted x_0 to [-clip_sample_range, clip_sample_range] (ignored when thresholding).</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; } = true;
    [JsonPropertyName("clip_sample_range")] public double ClipSampleRange { get; init; } = 1.0;
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
    public static DDPMSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<DDPMSchedulerConfig>(json);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static DDPMSchedulerConfig Load(string path) => SchedulerConfigJson.Load<DDPMSchedulerConfig>(path);
}
