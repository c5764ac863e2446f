using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The config fields diffusers' sigma-space schedulers with respaceable sigmas share (Euler, Heun, LMS, KDPM2, KDPM2
/// ancestral; scheduler_config.json keys): how the inference timesteps are picked and whether their sigmas are
/// respaced. Each scheduler's record derives from it and adds its own fields.
/// </summary>
public abstract record SigmaSchedulerConfig : SchedulerConfig
{
    /// <summary>Sets the class name and, where the class's defaults differ from the base's, the beta range.</summary>
    private protected SigmaSchedulerConfig(string className, double betaStart = 0.0001, double betaEnd = 0.02)
    {
        ClassName = className;
        BetaStart = betaStart;
        BetaEnd = betaEnd;
    }

    /// <summary>Respace the sigmas as Karras et al. 2022, eq. 5 (rho = 7).</summary>
    [JsonPropertyName("use_karras_sigmas")] public bool UseKarrasSigmas { get; init; }
    /// <summary>Respace the sigmas evenly in log sigma.</summary>
    [JsonPropertyName("use_exponential_sigmas")] public bool UseExponentialSigmas { get; init; }
    /// <summary>Respace the sigmas by the Beta(0.6, 0.6) quantile (Lee et al. 2024); the KDPM2 schedulers, as in diffusers, only recompute their timesteps.</summary>
    [JsonPropertyName("use_beta_sigmas")] public bool UseBetaSigmas { get; init; }
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
}
