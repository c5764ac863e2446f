using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DPMSolverSinglestepScheduler config (scheduler_config.json), every field with the reference's default
/// (the shared solver fields are in <see cref="ExponentialSolverConfig"/>; lower_order_final defaults to false here).
/// Unknown keys round-trip.
/// </summary>
public sealed record DPMSolverSinglestepSchedulerConfig : ExponentialSolverConfig
{
    public DPMSolverSinglestepSchedulerConfig()
    {
        ClassName = "DPMSolverSinglestepScheduler";
        LowerOrderFinal = false;
    }

    /// <summary>dpmsolver, dpmsolver++ or sde-dpmsolver++ (sde-dpmsolver has no singlestep form).</summary>
    [JsonPropertyName("algorithm_type")] public DPMSolverAlgorithmType AlgorithmType { get; init; } = DPMSolverAlgorithmType.DPMSolverPlusPlus;
    /// <summary>The second- and third-order rule.</summary>
    [JsonPropertyName("solver_type")] public DPMSolverType SolverType { get; init; } = DPMSolverType.Midpoint;
    /// <summary>The noise level after the last step; zero needs dpmsolver++ or sde-dpmsolver++.</summary>
    [JsonPropertyName("final_sigmas_type")] public FinalSigmasType FinalSigmasType { get; init; } = FinalSigmasType.Zero;
    /// <summary>Training timesteps with lambda below this are left out of the schedule.</summary>
    [JsonPropertyName("lambda_min_clipped")] public double LambdaMinClipped { get; init; } = double.NegativeInfinity;
    /// <summary><c>learned</c> or <c>learned_range</c> when the model also predicts a variance; else null.</summary>
    [JsonPropertyName("variance_type")] public DDPMVarianceType? VarianceType { get; init; }
}
