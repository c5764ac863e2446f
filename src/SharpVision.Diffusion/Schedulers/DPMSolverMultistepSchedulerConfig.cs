using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DPMSolverMultistepScheduler config (scheduler_config.json), every field with the reference's default
/// (the shared solver fields are in <see cref="ExponentialSolverConfig"/>). Unknown keys round-trip.
/// </summary>
public sealed record DPMSolverMultistepSchedulerConfig : ExponentialSolverConfig
{
    public DPMSolverMultistepSchedulerConfig() => ClassName = "DPMSolverMultistepScheduler";

    /// <summary>DPM-Solver (noise prediction) or DPM-Solver++ (data prediction), ODE or SDE.</summary>
    [JsonPropertyName("algorithm_type")] public DPMSolverAlgorithmType AlgorithmType { get; init; } = DPMSolverAlgorithmType.DPMSolverPlusPlus;
    /// <summary>The second-order rule; midpoint is recommended.</summary>
    [JsonPropertyName("solver_type")] public DPMSolverType SolverType { get; init; } = DPMSolverType.Midpoint;
    /// <summary>Take the last step with first-order Euler, whatever the step count.</summary>
    [JsonPropertyName("euler_at_final")] public bool EulerAtFinal { get; init; }
    /// <summary>Noise levels uniform in lambda (log SNR), as the DPM-Solver paper spaces them.</summary>
    [JsonPropertyName("use_lu_lambdas")] public bool UseLuLambdas { get; init; }
    /// <summary>The noise level after the last step; zero needs a data-prediction algorithm (dpmsolver++ or sde-dpmsolver++).</summary>
    [JsonPropertyName("final_sigmas_type")] public FinalSigmasType FinalSigmasType { get; init; } = FinalSigmasType.Zero;
    /// <summary>Training timesteps with lambda below this are left out of the schedule (cosine schedules use -5.1).</summary>
    [JsonPropertyName("lambda_min_clipped")] public double LambdaMinClipped { get; init; } = double.NegativeInfinity;
    /// <summary><c>learned</c> or <c>learned_range</c> when the model also predicts a variance (its first 3 channels are the noise); else null.</summary>
    [JsonPropertyName("variance_type")] public DDPMVarianceType? VarianceType { get; init; }
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    /// <summary>Added to the <c>leading</c> timesteps.</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    /// <summary>Rescale betas to zero terminal SNR (Lin et al. 2023).</summary>
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }
    internal override bool ZeroTerminalSnr => RescaleBetasZeroSnr;
}
