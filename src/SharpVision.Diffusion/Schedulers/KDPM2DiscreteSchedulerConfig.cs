namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// diffusers' KDPM2DiscreteScheduler config (scheduler_config.json): every field of its constructor with the
/// reference's default (beta range 0.00085..0.012, unlike the base); the shared ones (beta schedule,
/// prediction type, timestep spacing, sigma respacing) come from <see cref="SigmaSchedulerConfig"/>.
/// </summary>
public sealed record KDPM2DiscreteSchedulerConfig : SigmaSchedulerConfig
{
    public KDPM2DiscreteSchedulerConfig() : base("KDPM2DiscreteScheduler", betaStart: 0.00085, betaEnd: 0.012) { }

    /// <summary>Reads a scheduler_config.json text.</summary>
    /// <exception cref="ArgumentException">An option has an unknown value; the message lists the allowed ones.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON.</exception>
    public static KDPM2DiscreteSchedulerConfig FromJson(string json) => SchedulerConfigJson.FromJson<KDPM2DiscreteSchedulerConfig>(json);
}
