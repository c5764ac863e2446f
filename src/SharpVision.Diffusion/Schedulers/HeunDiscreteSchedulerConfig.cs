using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' HeunDiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default (beta range 0.00085..0.012, unlike the base); <c>beta_schedule</c> may also be <c>exp</c>.
/// </summary>
public sealed record HeunDiscreteSchedulerConfig : SchedulerConfig
{
    public HeunDiscreteSchedulerConfig()
    {
        ClassName = "HeunDiscreteScheduler";
        BetaStart = 0.00085;
        BetaEnd = 0.012;
    }

    /// <summary>Respace the sigmas as Karras et al. 2022, eq. 5 (rho = 7).</summary>
    [JsonPropertyName("use_karras_sigmas")] public bool UseKarrasSigmas { get; init; }
    /// <summary>Respace the sigmas evenly in log sigma.</summary>
    [JsonPropertyName("use_exponential_sigmas")] public bool UseExponentialSigmas { get; init; }
    /// <summary>Beta-distribution sigmas (Lee et al. 2024); not supported here (rejected when true).</summary>
    [JsonPropertyName("use_beta_sigmas")] public bool UseBetaSigmas { get; init; }
    /// <summary>Clip the predicted x_0 to [-clip_sample_range, clip_sample_range].</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; }
    [JsonPropertyName("clip_sample_range")] public double ClipSampleRange { get; init; } = 1.0;
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option has an unknown value; the message lists the allowed ones.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static HeunDiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<HeunDiscreteSchedulerConfig>(json);
}
