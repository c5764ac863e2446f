using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The scheduler_config.json fields the exponential-integrator solvers share (DPM-Solver multistep and singlestep,
/// UniPC, DEIS), with diffusers' defaults; each solver's sealed record adds its own.
/// </summary>
/// <remarks>
/// The flow-matching fields (<c>use_flow_sigmas</c>, <c>flow_shift</c>, <c>use_dynamic_shifting</c>,
/// <c>time_shift_type</c>) and <c>use_beta_sigmas</c> round-trip, but the schedulers reject true values of the
/// switches: flow-matching sigmas and the beta-distribution schedule are not implemented.
/// </remarks>
public abstract record ExponentialSolverConfig : SchedulerConfig
{
    /// <summary>Order of the solver, 1 to 3: 2 for guided sampling, 3 for unconditional.</summary>
    [JsonPropertyName("solver_order")] public int SolverOrder { get; init; } = 2;
    /// <summary>Dynamic thresholding of predicted x_0 (Imagen, Saharia et al. 2022), for pixel-space models.</summary>
    [JsonPropertyName("thresholding")] public bool Thresholding { get; init; }
    [JsonPropertyName("dynamic_thresholding_ratio")] public double DynamicThresholdingRatio { get; init; } = 0.995;
    [JsonPropertyName("sample_max_value")] public double SampleMaxValue { get; init; } = 1.0;
    /// <summary>Lower the order for the last steps, which stabilises sampling in fewer than 15 steps.</summary>
    [JsonPropertyName("lower_order_final")] public bool LowerOrderFinal { get; init; } = true;
    /// <summary>Karras et al. 2022 noise levels (rho = 7) instead of the training ones at the spaced timesteps.</summary>
    [JsonPropertyName("use_karras_sigmas")] public bool UseKarrasSigmas { get; init; }
    /// <summary>Noise levels evenly spaced in log sigma.</summary>
    [JsonPropertyName("use_exponential_sigmas")] public bool UseExponentialSigmas { get; init; }
    /// <summary>Beta-distribution noise levels (Lee et al. 2024); not implemented, true is rejected.</summary>
    [JsonPropertyName("use_beta_sigmas")] public bool UseBetaSigmas { get; init; }
    /// <summary>Flow-matching sigmas; not implemented, true is rejected.</summary>
    [JsonPropertyName("use_flow_sigmas")] public bool UseFlowSigmas { get; init; }
    /// <summary>Flow-matching shift; used only with <c>use_flow_sigmas</c>.</summary>
    [JsonPropertyName("flow_shift")] public double FlowShift { get; init; } = 1.0;
    /// <summary>Resolution-dependent flow shift; not implemented, true is rejected.</summary>
    [JsonPropertyName("use_dynamic_shifting")] public bool UseDynamicShifting { get; init; }
    /// <summary>The dynamic shift's form; used only with <c>use_dynamic_shifting</c>.</summary>
    [JsonPropertyName("time_shift_type")] public TimeShiftType TimeShiftType { get; init; } = TimeShiftType.Exponential;

    /// <summary>Whether betas are rescaled to zero terminal SNR (the <c>rescale_betas_zero_snr</c> of the solvers that have it).</summary>
    [JsonIgnore] internal virtual bool ZeroTerminalSnr => false;
}
