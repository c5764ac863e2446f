using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' UniPCMultistepScheduler config (scheduler_config.json), every field with the reference's default
/// (the shared solver fields are in <see cref="ExponentialSolverConfig"/>). Unknown keys round-trip.
/// </summary>
public sealed record UniPCMultistepSchedulerConfig : ExponentialSolverConfig
{
    public UniPCMultistepSchedulerConfig() => ClassName = "UniPCMultistepScheduler";

    /// <summary>Solve in the data prediction x_0 (UniPC with DPM-Solver++'s parameterisation) rather than epsilon.</summary>
    [JsonPropertyName("predict_x0")] public bool PredictX0 { get; init; } = true;
    /// <summary>B(h): bh1 below 10 steps, bh2 otherwise.</summary>
    [JsonPropertyName("solver_type")] public UniPCSolverType SolverType { get; init; } = UniPCSolverType.Bh2;
    /// <summary>Step indices whose UniC correction is skipped (helps with large guidance scales).</summary>
    [JsonPropertyName("disable_corrector")] public int[] DisableCorrector { get; init; } = [];
    /// <summary>Another scheduler as the predictor (UniC on top of it); not supported, must be null.</summary>
    [JsonPropertyName("solver_p")] public JsonElement? SolverP { get; init; }
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    /// <summary>Added to the <c>leading</c> timesteps.</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    /// <summary>The noise level after the last step.</summary>
    [JsonPropertyName("final_sigmas_type")] public FinalSigmasType FinalSigmasType { get; init; } = FinalSigmasType.Zero;
    /// <summary>Rescale betas to zero terminal SNR (Lin et al. 2023).</summary>
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }
    internal override bool ZeroTerminalSnr => RescaleBetasZeroSnr;
    /// <summary>Lower end of the Karras / exponential schedule; the training sigma_min when null.</summary>
    [JsonPropertyName("sigma_min")] public double? SigmaMin { get; init; }
    /// <summary>Upper end of the Karras / exponential schedule; the training sigma_max when null.</summary>
    [JsonPropertyName("sigma_max")] public double? SigmaMax { get; init; }
    /// <summary>Terminal value of stretched flow-matching sigmas; needs use_flow_sigmas, so must be null here.</summary>
    [JsonPropertyName("shift_terminal")] public double? ShiftTerminal { get; init; }
}
