using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The fields diffusers' DDPMScheduler, DDIMScheduler and LCMScheduler share (the latter two copy DDPM's x_0 clipping and
/// dynamic thresholding), with DDPM's defaults; the fields every scheduler shares are in <see cref="SchedulerConfig"/>.
/// </summary>
public abstract record DDPMFamilySchedulerConfig : SchedulerConfig
{
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
}
