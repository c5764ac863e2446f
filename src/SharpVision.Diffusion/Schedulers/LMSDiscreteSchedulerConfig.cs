namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' LMSDiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default; the shared ones (beta schedule, prediction type, timestep spacing, sigma respacing) come from <see cref="SigmaSchedulerConfig"/>.
/// </summary>
public sealed record LMSDiscreteSchedulerConfig : SigmaSchedulerConfig
{
    public LMSDiscreteSchedulerConfig() : base("LMSDiscreteScheduler") { }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option has an unknown value; the message lists the allowed ones.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static LMSDiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<LMSDiscreteSchedulerConfig>(json);
}
