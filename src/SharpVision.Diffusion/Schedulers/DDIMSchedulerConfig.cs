using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DDIMScheduler config (scheduler_config.json), every field with the reference's default;
/// the fields every scheduler shares are in <see cref="SchedulerConfig"/>.
/// </summary>
public sealed record DDIMSchedulerConfig : DDPMFamilySchedulerConfig
{
    /// <summary>A config with the reference's defaults.</summary>
    public DDIMSchedulerConfig() => ClassName = "DDIMScheduler";

    /// <summary>alpha_bar after the last step: 1 when true, else alpha_bar_0.</summary>
    [JsonPropertyName("set_alpha_to_one")] public bool SetAlphaToOne { get; init; } = true;

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">beta_schedule, prediction_type or timestep_spacing is unknown; the message lists the allowed values.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static DDIMSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<DDIMSchedulerConfig>(json);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static DDIMSchedulerConfig Load(string path) => SchedulerConfigJson.Load<DDIMSchedulerConfig>(path);
}
