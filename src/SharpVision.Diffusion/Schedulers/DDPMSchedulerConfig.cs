using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DDPMScheduler config (scheduler_config.json), every field with the reference's default;
/// the fields every scheduler shares are in <see cref="SchedulerConfig"/>.
/// </summary>
public sealed record DDPMSchedulerConfig : DDPMFamilySchedulerConfig
{
    /// <summary>A config with the reference's defaults.</summary>
    public DDPMSchedulerConfig() => ClassName = "DDPMScheduler";

    /// <summary>The reverse step's variance: fixed_small (posterior variance) or fixed_large (beta_t), or learned by the model.</summary>
    [JsonPropertyName("variance_type")] public DDPMVarianceType VarianceType { get; init; } = DDPMVarianceType.FixedSmall;

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">beta_schedule, prediction_type or timestep_spacing is unknown; the message lists the allowed values.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static DDPMSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<DDPMSchedulerConfig>(json);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static DDPMSchedulerConfig Load(string path) => SchedulerConfigJson.Load<DDPMSchedulerConfig>(path);
}
