using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' KDPM2AncestralDiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default (beta range 0.00085..0.012, unlike the base).
/// </summary>
public sealed record KDPM2AncestralDiscreteSchedulerConfig : SchedulerConfig
{
    public KDPM2AncestralDiscreteSchedulerConfig()
    {
        ClassName = "KDPM2AncestralDiscreteScheduler";
        BetaStart = 0.00085;
        BetaEnd = 0.012;
    }

    /// <summary>Respace the sigmas as Karras et al. 2022, eq. 5 (rho = 7); the timesteps are then rounded.</summary>
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
    public static KDPM2AncestralDiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<KDPM2AncestralDiscreteSchedulerConfig>(json);
}
