using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' LMSDiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default; the shared fields (beta schedule, prediction type) come from <see cref="SchedulerConfig"/>.
/// </summary>
public sealed record LMSDiscreteSchedulerConfig : SchedulerConfig
{
    public LMSDiscreteSchedulerConfig() => ClassName = "LMSDiscreteScheduler";

    /// <summary>Respace the sigmas as Karras et al. 2022, eq. 5 (rho = 7).</summary>
    [JsonPropertyName("use_karras_sigmas")] public bool UseKarrasSigmas { get; init; }
    /// <summary>Respace the sigmas evenly in log sigma.</summary>
    [JsonPropertyName("use_exponential_sigmas")] public bool UseExponentialSigmas { get; init; }
    /// <summary>Beta-distribution sigmas (Lee et al. 2024); not supported here (rejected when true).</summary>
    [JsonPropertyName("use_beta_sigmas")] public bool UseBetaSigmas { get; init; }
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option has an unknown value; the message lists the allowed ones.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static LMSDiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<LMSDiscreteSchedulerConfig>(json);
}
