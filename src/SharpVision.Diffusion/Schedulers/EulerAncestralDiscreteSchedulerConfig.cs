using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' EulerAncestralDiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default; the shared fields (beta schedule, prediction type) come from <see cref="SchedulerConfig"/>.
/// </summary>
public sealed record EulerAncestralDiscreteSchedulerConfig : SchedulerConfig
{
    public EulerAncestralDiscreteSchedulerConfig() => ClassName = "EulerAncestralDiscreteScheduler";

    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    /// <summary>Rescale betas to zero terminal SNR (Lin et al. 2023); alpha_bar_T then becomes 2^-24.</summary>
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option has an unknown value; the message lists the allowed ones.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static EulerAncestralDiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<EulerAncestralDiscreteSchedulerConfig>(json);
}
