using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' HeunDiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default (beta range 0.00085..0.012, unlike the base); <c>beta_schedule</c> may also be <c>exp</c>.
/// The shared fields (timestep spacing, sigma respacing) come from <see cref="SigmaSchedulerConfig"/>.
/// </summary>
public sealed record HeunDiscreteSchedulerConfig : SigmaSchedulerConfig
{
    public HeunDiscreteSchedulerConfig() : base("HeunDiscreteScheduler", betaStart: 0.00085, betaEnd: 0.012) { }

    /// <summary>Clip the predicted x_0 to [-clip_sample_range, clip_sample_range].</summary>
    [JsonPropertyName("clip_sample")] public bool ClipSample { get; init; }
    [JsonPropertyName("clip_sample_range")] public double ClipSampleRange { get; init; } = 1.0;

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option has an unknown value; the message lists the allowed ones.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static HeunDiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<HeunDiscreteSchedulerConfig>(json);
}
