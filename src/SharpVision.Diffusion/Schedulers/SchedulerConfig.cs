using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The fields every diffusers scheduler config shares (scheduler_config.json). Each scheduler's config record derives
/// from it, adding its own fields with the reference's defaults; keys a record does not know are kept in
/// <see cref="ExtensionData"/> and written back, so a file round-trips unchanged.
/// </summary>
/// <remarks>
/// A derived record sets its own defaults for shared fields (class name, beta range) in its parameterless constructor.
/// Read and write through <see cref="SchedulerConfigJson"/> (or the derived record's <c>Load</c>/<c>FromJson</c>).
/// </remarks>
public abstract record SchedulerConfig
{
    /// <summary><c>_class_name</c>: the diffusers class the file is for.</summary>
    [JsonPropertyName("_class_name"), JsonPropertyOrder(-2)] public string ClassName { get; init; } = "";
    /// <summary><c>_diffusers_version</c> of the writer, kept as read; omitted when null.</summary>
    [JsonPropertyName("_diffusers_version"), JsonPropertyOrder(-1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DiffusersVersion { get; init; }
    /// <summary>T, the number of diffusion steps the model was trained with.</summary>
    [JsonPropertyName("num_train_timesteps")] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start")] public double BetaStart { get; init; } = 0.0001;
    [JsonPropertyName("beta_end")] public double BetaEnd { get; init; } = 0.02;
    [JsonPropertyName("beta_schedule")] public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;
    /// <summary>Explicit betas (T values), overriding beta_start/beta_end/beta_schedule.</summary>
    [JsonPropertyName("trained_betas")] public double[]? TrainedBetas { get; init; }
    [JsonPropertyName("prediction_type")] public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary>Keys this version does not know, written back unchanged.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; init; }

    /// <summary>The config as diffusers writes it: keys sorted, two-space indent.</summary>
    public string ToJson() => SchedulerConfigJson.ToJson(this);

    /// <summary>Writes the config atomically.</summary>
    public void Save(string path) => SchedulerConfigJson.Save(this, path);
}
