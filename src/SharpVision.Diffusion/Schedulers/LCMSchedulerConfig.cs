using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' LCMScheduler config (scheduler_config.json), every <c>__init__</c> field with the reference's default
/// (Stable Diffusion's beta range, scaled_linear). diffusers keeps <c>timestep_spacing</c> and <c>steps_offset</c>
/// in the file but LCM's schedule does not read them; so here.
/// </summary>
public sealed record LCMSchedulerConfig : DDPMFamilySchedulerConfig
{
    public LCMSchedulerConfig()
    {
        ClassName = "LCMScheduler";
        BetaStart = 0.00085;
        BetaEnd = 0.012;
        BetaSchedule = BetaSchedule.ScaledLinear;
        ClipSample = false;
    }

    /// <summary>N of the distillation schedule: the training timesteps are k·i - 1 for k = T / N, i = 1..N.</summary>
    [JsonPropertyName("original_inference_steps")] public int OriginalInferenceSteps { get; init; } = 50;
    /// <summary>alpha_bar after the last step: 1 when true, else alpha_bar_0.</summary>
    [JsonPropertyName("set_alpha_to_one")] public bool SetAlphaToOne { get; init; } = true;
    /// <summary>Multiplies t in the boundary-condition scalings c_skip and c_out (larger: closer to the exact condition).</summary>
    [JsonPropertyName("timestep_scaling")] public double TimestepScaling { get; init; } = 10.0;

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option value is unknown; the message lists the allowed values.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static LCMSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<LCMSchedulerConfig>(json);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static LCMSchedulerConfig Load(string path) => SchedulerConfigJson.Load<LCMSchedulerConfig>(path);
}
