using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' EulerDiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default; the shared ones (beta schedule, prediction type, timestep spacing, sigma respacing) come from <see cref="SigmaSchedulerConfig"/>.
/// </summary>
public sealed record EulerDiscreteSchedulerConfig : SigmaSchedulerConfig
{
    public EulerDiscreteSchedulerConfig() : base("EulerDiscreteScheduler") { }

    /// <summary>How the inference sigmas are read off the training ones: linear in t, or evenly in log sigma.</summary>
    [JsonPropertyName("interpolation_type")] public InterpolationType InterpolationType { get; init; } = InterpolationType.Linear;
    /// <summary>Lower end of a respaced schedule; null: the smallest interpolated sigma.</summary>
    [JsonPropertyName("sigma_min")] public double? SigmaMin { get; init; }
    /// <summary>Upper end of a respaced schedule; null: the largest interpolated sigma.</summary>
    [JsonPropertyName("sigma_max")] public double? SigmaMax { get; init; }
    /// <summary>With v-prediction, <c>continuous</c> gives the model 0.25 log sigma instead of t.</summary>
    [JsonPropertyName("timestep_type")] public TimestepType TimestepType { get; init; } = TimestepType.Discrete;
    /// <summary>Rescale betas to zero terminal SNR (Lin et al. 2023); alpha_bar_T then becomes 2^-24.</summary>
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }
    /// <summary>The sigma after the last step: 0, or the smallest training sigma.</summary>
    [JsonPropertyName("final_sigmas_type")] public FinalSigmasType FinalSigmasType { get; init; } = FinalSigmasType.Zero;

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option has an unknown value; the message lists the allowed ones.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static EulerDiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<EulerDiscreteSchedulerConfig>(json);
}
