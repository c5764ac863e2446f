using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' PNDMScheduler config (scheduler_config.json), every <c>__init__</c> field with the reference's default.
/// The shared fields (beta schedule, training steps, prediction type) live in <see cref="SchedulerConfig"/>, whose
/// defaults are PNDM's.
/// </summary>
public sealed record PNDMSchedulerConfig : SchedulerConfig
{
    public PNDMSchedulerConfig() => ClassName = "PNDMScheduler";

    /// <summary>Skip the Runge–Kutta warm-up and start with the PLMS one (crowsonkb's sampler; Stable Diffusion sets it).</summary>
    [JsonPropertyName("skip_prk_steps")] public bool SkipPrkSteps { get; init; }
    /// <summary>alpha_bar after the last step: 1 when true, else alpha_bar_0.</summary>
    [JsonPropertyName("set_alpha_to_one")] public bool SetAlphaToOne { get; init; }
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option value is unknown; the message lists the allowed values.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static PNDMSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<PNDMSchedulerConfig>(json);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static PNDMSchedulerConfig Load(string path) => SchedulerConfigJson.Load<PNDMSchedulerConfig>(path);
}
