using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DEISMultistepScheduler config (scheduler_config.json), every field with the reference's default
/// (the shared solver fields are in <see cref="ExponentialSolverConfig"/>). Unknown keys round-trip.
/// </summary>
public sealed record DEISMultistepSchedulerConfig : ExponentialSolverConfig
{
    public DEISMultistepSchedulerConfig() => ClassName = "DEISMultistepScheduler";

    /// <summary>The integrator; only deis.</summary>
    [JsonPropertyName("algorithm_type")] public DEISAlgorithmType AlgorithmType { get; init; } = DEISAlgorithmType.Deis;
    /// <summary>The extrapolation variable; only logrho.</summary>
    [JsonPropertyName("solver_type")] public DEISSolverType SolverType { get; init; } = DEISSolverType.Logrho;
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    /// <summary>Added to the <c>leading</c> timesteps.</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
}
