namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The members the exponential-integrator schedulers (DPM-Solver multistep and singlestep, UniPC, DEIS) share through
/// <see cref="ExponentialSolverCore"/>: the schedule, the begin index, the (absent) input scaling and add_noise.
/// Each derived class adds its set_timesteps and step.
/// </summary>
/// <typeparam name="TConfig">The scheduler's config record.</typeparam>
public abstract class ExponentialSolverScheduler<TConfig> : IDiffusionScheduler where TConfig : ExponentialSolverConfig
{
    private protected ExponentialSolverCore Core { get; }

    /// <summary>The configuration this scheduler was built from.</summary>
    public TConfig Config { get; }
    SchedulerConfig IDiffusionScheduler.Config => Config;

    /// <summary>One model evaluation per step.</summary>
    public int Order => 1;
    /// <summary>1: these solvers work on the VP sample, x = alpha_t x_0 + sigma_t noise.</summary>
    public double InitNoiseSigma => 1.0;
    /// <inheritdoc/>
    public int? NumInferenceSteps => Core.NumInferenceSteps;
    /// <summary>The timesteps of the loop, descending; all T before <c>SetTimesteps</c>.</summary>
    public IReadOnlyList<double> Timesteps => Core.Timesteps;
    /// <summary>The N + 1 float32 noise levels of the loop (the last one the final level); null before <c>SetTimesteps</c>.</summary>
    public IReadOnlyList<double>? Sigmas => Core.Sigmas;

    private protected ExponentialSolverScheduler(TConfig config, string owner)
    {
        Config = config;
        Core = new ExponentialSolverCore(config, owner);
    }

    /// <summary>The use_karras_sigmas / use_exponential_sigmas choice (beta sigmas are rejected by the core).</summary>
    private protected SolverSigmaSpacing ConvertedSpacing =>
        Config.UseKarrasSigmas ? SolverSigmaSpacing.Karras
        : Config.UseExponentialSigmas ? SolverSigmaSpacing.Exponential
        : SolverSigmaSpacing.Training;

    /// <inheritdoc/>
    public abstract void SetTimesteps(int numInferenceSteps);

    /// <inheritdoc/>
    public abstract SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null);

    /// <inheritdoc/>
    public void SetBeginIndex(int beginIndex) => Core.SetBeginIndex(beginIndex);

    /// <summary>These solvers need no input scaling; returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, double timestep) => sample;

    /// <summary>x = alpha_t x_0 + sigma_t noise at each timestep's schedule entry (the begin index when one is set).</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) entries of <see cref="Timesteps"/>.</param>
    /// <exception cref="InvalidOperationException"><c>SetTimesteps</c> has not been called.</exception>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => Core.AddNoise(originalSamples, noise, timesteps);
}
