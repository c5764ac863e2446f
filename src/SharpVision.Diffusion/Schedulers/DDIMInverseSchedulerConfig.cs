using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' DDIMInverseScheduler config (scheduler_config.json), every field with the reference's default.
/// Keys diffusers may add later are kept in <see cref="ExtensionData"/> and written back.
/// </summary>
public sealed record DDIMInverseSchedulerConfig
{
    /// <summary><c>_class_name</c>: the diffusers class the file is for.</summary>
    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = "DDIMInverseScheduler";
    /// <summary><c>_diffusers_version</c> of the writer, kept as read; omitted when null.</summary>
    [JsonPropertyName("_diffusers_version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DiffusersVersion { get; init; }
    /// <summary>T, the number of diffusion steps the model was trained with.</summary>
    [JsonPropertyName("num_train_timesteps")] public int NumTrainTimesteps { get; init; } = 1000;
    [JsonPropertyName("beta_start")] public double BetaStart { get; init; } = 0.0001;
    [JsonPropertyName("beta_end")] public double BetaEnd { get; init; } = 0.02;
    [JsonPropertyName("beta_schedule")] public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;
    /// <summary>Explicit betas (T values), overriding beta_start/beta_end/beta_schedule.</summary>
    [JsonPropertyName("trained_betas")] public double[]? TrainedBetas { get; init; }
    /// <summary>Clip predicted x_0 to [-clip_sample_range, clip_sample_range].</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; } = true;
    [JsonPropertyName("clip_sample_range")] public double ClipSampleRange { get; init; } = 1.0;
    /// <summary>alpha_bar before the first step (the clean sample's): 1 when true, else alpha_bar_0.</summary>
    [JsonPropertyName("set_alpha_to_one")] public bool SetAlphaToOne { get; init; } = true;
    /// <summary>Added to the <c>leading</c> timesteps (Stable Diffusion uses 1).</summary>
    [JsonPropertyName("steps_offset")] public int StepsOffset { get; init; }
    [JsonPropertyName("prediction_type")] public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    [JsonPropertyName("timestep_spacing")] public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;
    /// <summary>Rescale betas to zero terminal SNR (Lin et al. 2023).</summary>
    [JsonPropertyName("rescale_betas_zero_snr")] public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Keys this version does not know, written back unchanged.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; init; }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">beta_schedule, prediction_type or timestep_spacing is unknown; the message lists the allowed values.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static DDIMInverseSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<DDIMInverseSchedulerConfig>(json);

    /// <summary>The config as diffusers writes it: keys sorted, two-space indent.</summary>
    public string ToJson() => SchedulerConfigJson.ToJson(this);

    /// <summary>Reads a scheduler_config.json file, or the one in a folder (diffusers' <c>scheduler/</c>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static DDIMInverseSchedulerConfig Load(string path) => SchedulerConfigJson.Load<DDIMInverseSchedulerConfig>(path);

    /// <summary>Writes the config atomically.</summary>
    public void Save(string path) => SchedulerConfigJson.Save(this, path);
}
