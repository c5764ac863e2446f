using SharpVision.Nn;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Denoising diffusion probabilistic models (Ho, Jain and Abbeel 2020, https://arxiv.org/abs/2006.11239): the forward
/// noising used in training (<see cref="AddNoise"/>, <see cref="GetVelocity"/>) and ancestral sampling, on all T
/// training timesteps or a subset (<see cref="SetTimesteps(int)"/>).
/// Follows diffusers 0.40 <c>schedulers/scheduling_ddpm.py</c> (DDPMScheduler).
/// </summary>
public sealed class DDPMScheduler : IDiffusionScheduler
{
    readonly float[] betas;
    readonly float[] alphasCumprod;
    long[] timesteps;

    /// <summary>The configuration this scheduler was built from.</summary>
    public DDPMSchedulerConfig Config { get; }

    /// <summary>The inference steps set by <see cref="SetTimesteps(int)"/>; null while the full training schedule is used.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>Standard deviation of the initial noise: 1 for DDPM.</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>The timesteps of the sampling loop, descending; all T training timesteps until <see cref="SetTimesteps(int)"/>.</summary>
    public IReadOnlyList<long> Timesteps => timesteps;

    /// <summary>(T) float32 betas.</summary>
    public Tensor Betas => torch.tensor(betas);

    /// <summary>(T) float32 alpha_bar_t = prod_{s &lt;= t} (1 - beta_s), as diffusers computes it.</summary>
    public Tensor AlphasCumprod => torch.tensor(alphasCumprod);

    /// <exception cref="ArgumentException">An option value is not defined, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public DDPMScheduler(DDPMSchedulerConfig? config = null)
    {
        Config = config ?? new DDPMSchedulerConfig();
        betas = NoiseSchedule.ConfigBetas(Config, Config.TimestepSpacing, Config.RescaleBetasZeroSnr);
        SchedulerOptions.RequireDefined(Config.VarianceType);
        alphasCumprod = NoiseSchedule.AlphasCumprod(betas);
        timesteps = Enumerable.Range(0, Config.NumTrainTimesteps).Reverse().Select(t => (long)t).ToArray();
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static DDPMScheduler FromConfigFile(string path) => new(DDPMSchedulerConfig.Load(path));

    /// <summary>Samples with <paramref name="numInferenceSteps"/> of the T timesteps, picked by <c>timestep_spacing</c>.</summary>
    /// <remarks>
    /// Timesteps equal diffusers' except where diffusers' <c>trailing</c> spacing breaks: numpy sizes its float arange
    /// as ceil(T / (T / N)), which rounding makes N + 1 for some (T, N) such as (1000, 61), adding a timestep -1.
    /// Here there are always N. <c>leading</c> with a steps_offset that pushes a timestep past T - 1 is rejected.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps, or steps_offset pushes a timestep past T - 1.</exception>
    public void SetTimesteps(int numInferenceSteps)
    {
        timesteps = NoiseSchedule.DescendingTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset);
        NumInferenceSteps = numInferenceSteps;
    }

    /// <summary>Samples on the given timesteps (diffusers' <c>set_timesteps(timesteps=...)</c>).</summary>
    /// <param name="customTimesteps">Strictly descending training timesteps in 0..T-1.</param>
    /// <exception cref="ArgumentException">Empty, not strictly descending, or out of range.</exception>
    public void SetTimesteps(IReadOnlyList<long> customTimesteps)
    {
        ArgumentNullException.ThrowIfNull(customTimesteps);
        if (customTimesteps.Count == 0) throw new ArgumentException("customTimesteps must not be empty", nameof(customTimesteps));
        for (int i = 0; i < customTimesteps.Count; i++)
        {
            if (customTimesteps[i] < 0 || customTimesteps[i] >= Config.NumTrainTimesteps)
                throw new ArgumentException($"customTimesteps must be in 0..{Config.NumTrainTimesteps - 1}; got {customTimesteps[i]} at {i}", nameof(customTimesteps));
            if (i > 0 && customTimesteps[i] >= customTimesteps[i - 1])
                throw new ArgumentException($"customTimesteps must be strictly descending; got {customTimesteps[i - 1]} then {customTimesteps[i]}", nameof(customTimesteps));
        }
        timesteps = customTimesteps.ToArray();
        NumInferenceSteps = timesteps.Length;
    }

    /// <summary>The timestep a step from <paramref name="timestep"/> lands on: the next entry of <see cref="Timesteps"/>, or -1 after the last.</summary>
    /// <exception cref="ArgumentException"><paramref name="timestep"/> is not in the schedule.</exception>
    public long PreviousTimestep(long timestep) => NoiseSchedule.NextInSchedule(timesteps, timestep, nameof(timestep));

    /// <summary>DDPM needs no input scaling; returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, long? timestep = null) => sample;

    /// <summary>One ancestral step x_t -> x_{t_prev}: sample the posterior q(x_{t_prev} | x_t, x_0) with x_0 predicted by the model.</summary>
    /// <remarks>
    /// <para>With a subset of timesteps the step uses the posterior between t and t_prev (the schedule's next entry), with
    /// beta_t replaced by 1 - alpha_bar_t / alpha_bar_{t_prev}, as diffusers does.</para>
    /// <para>Symbols (Ho et al. 2020, https://arxiv.org/abs/2006.11239):</para>
    /// <list type="table">
    /// <listheader><term>variable</term><description>symbol</description></listheader>
    /// <item><term>alphaProdT, alphaProdTPrev</term><description>alpha-bar_t, alpha-bar_{t-1}</description></item>
    /// <item><term>currentAlphaT, currentBetaT</term><description>alpha_t, beta_t (of this possibly strided step)</description></item>
    /// <item><term>predOriginalSample</term><description>x_0 predicted from x_t (eq. 15 for epsilon models)</description></item>
    /// <item><term>predOriginalSampleCoeff, currentSampleCoeff</term><description>the two weights of the posterior mean mu~_t (eq. 7)</description></item>
    /// <item><term>variance</term><description>sigma_t^2: beta~_t (fixed_small, eq. 7) or beta_t (fixed_large)</description></item>
    /// </list>
    /// </remarks>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction; (B, 2C, H, W) with the variance channels for learned variance types.</param>
    /// <param name="timestep">t, an entry of <see cref="Timesteps"/> (any training timestep when <paramref name="prevTimestep"/> is given).</param>
    /// <param name="sample">(B, C, H, W) x_t.</param>
    /// <param name="varianceNoise">(B, C, H, W) the standard normal noise z; drawn when null. Unused at t = 0.</param>
    /// <param name="generator">Source of the drawn noise when <paramref name="varianceNoise"/> is null.</param>
    /// <param name="prevTimestep">The timestep to step to; negative means past the end (alpha-bar = 1). Default: the schedule's next entry.</param>
    /// <exception cref="ArgumentException">Shapes differ, both noise and generator given, or the timestep is not in the schedule.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timestep outside 0..T-1.</exception>
    public DDPMSchedulerOutput Step(Tensor modelOutput, long timestep, Tensor sample, Tensor? varianceNoise = null,
        Generator? generator = null, long? prevTimestep = null)
    {
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        NoiseSchedule.RequireTrainTimestep(timestep, Config.NumTrainTimesteps, nameof(timestep));
        if (varianceNoise is not null && generator is not null)
            throw new ArgumentException("pass either varianceNoise or generator, not both", nameof(varianceNoise));
        if (prevTimestep is { } given && given >= Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(prevTimestep), given, $"prevTimestep must be < num_train_timesteps ({Config.NumTrainTimesteps}); got {given}");

        using var scope = torch.NewDisposeScope();
        var originalModelOutput = modelOutput;

        // Learned variance types predict it in a second set of channels.
        Tensor? predictedVariance = null;
        bool learned = Config.VarianceType is DDPMVarianceType.Learned or DDPMVarianceType.LearnedRange;
        if (learned && sample.dim() >= 2 && modelOutput.dim() == sample.dim() && modelOutput.shape[1] == 2 * sample.shape[1])
        {
            var halves = modelOutput.split(sample.shape[1], 1);
            (modelOutput, predictedVariance) = (halves[0], halves[1]);
        }
        else if (learned)
            throw new ArgumentException($"modelOutput must be (B, 2C, ...) with the predicted variance for variance_type {SchedulerOptions.ToConfigString(Config.VarianceType)}; got {Shapes.Format(modelOutput)} for sample {Shapes.Format(sample)}", nameof(modelOutput));
        NoiseSchedule.RequireSameShape(sample, modelOutput, nameof(sample), nameof(modelOutput));
        if (varianceNoise is not null) NoiseSchedule.RequireSameShape(sample, varianceNoise, nameof(sample), nameof(varianceNoise));

        long prev = prevTimestep ?? NoiseSchedule.NextInSchedule(timesteps, timestep, nameof(timestep));

        // 1. alpha-bar at both ends of the step, and the step's own alpha and beta. float32 scalars, as in diffusers.
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = prev >= 0 ? alphasCumprod[prev] : 1f;
        float betaProdT = 1f - alphaProdT;
        float betaProdTPrev = 1f - alphaProdTPrev;
        float currentAlphaT = alphaProdT / alphaProdTPrev;
        float currentBetaT = 1f - currentAlphaT;

        // 2. Predicted x_0 (eq. 15 for epsilon models).
        Tensor predOriginalSample = Config.PredictionType switch
        {
            PredictionType.Epsilon => (sample - MathF.Sqrt(betaProdT) * modelOutput) / MathF.Sqrt(alphaProdT),
            PredictionType.Sample => modelOutput,
            _ => MathF.Sqrt(alphaProdT) * sample - MathF.Sqrt(betaProdT) * modelOutput,
        };

        // 3. Keep x_0 in range: dynamic thresholding, else plain clipping.
        if (Config.Thresholding)
            predOriginalSample = NoiseSchedule.Threshold(predOriginalSample, Config.DynamicThresholdingRatio, Config.SampleMaxValue);
        else if (Config.ClipSample)
            predOriginalSample = predOriginalSample.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 4. Weights of x_0 and x_t in the posterior mean mu~_t(x_t, x_0) (eq. 7).
        float predOriginalSampleCoeff = MathF.Sqrt(alphaProdTPrev) * currentBetaT / betaProdT;
        float currentSampleCoeff = MathF.Sqrt(currentAlphaT) * betaProdTPrev / betaProdT;

        // 5. mu~_t.
        var prevSample = predOriginalSampleCoeff * predOriginalSample + currentSampleCoeff * sample;

        // 6. Add sigma_t z, except on the last step (t = 0), which returns the mean.
        if (timestep > 0)
        {
            var noise = varianceNoise ?? torch.randn(sample.shape, dtype: modelOutput.dtype, device: modelOutput.device, generator: generator);
            prevSample = prevSample + StandardDeviationTimesNoise(alphaProdT, alphaProdTPrev, currentBetaT, predictedVariance, noise);
        }

        return new DDPMSchedulerOutput(NoiseSchedule.Escape(prevSample, originalModelOutput, sample), NoiseSchedule.Escape(predOriginalSample, originalModelOutput, sample));
    }

    /// <summary>sigma_t * z for the configured variance type, following diffusers' _get_variance and step.</summary>
    Tensor StandardDeviationTimesNoise(float alphaProdT, float alphaProdTPrev, float currentBetaT, Tensor? predictedVariance, Tensor noise)
    {
        // beta~_t = (1 - alpha-bar_{t-1}) / (1 - alpha-bar_t) * beta_t (eq. 7), kept away from 0 so its log is finite.
        float posterior = Math.Max((1f - alphaProdTPrev) / (1f - alphaProdT) * currentBetaT, 1e-20f);
        switch (Config.VarianceType)
        {
            case DDPMVarianceType.FixedSmall:
                return MathF.Sqrt(posterior) * noise;
            case DDPMVarianceType.FixedSmallLog:
                return MathF.Exp(0.5f * MathF.Log(posterior)) * noise;
            case DDPMVarianceType.FixedLarge:
                return MathF.Sqrt(currentBetaT) * noise;
            case DDPMVarianceType.FixedLargeLog:
                // diffusers takes sqrt(log beta_t) here, which is NaN; the log form of beta_t means exp(log(beta_t) / 2).
                return MathF.Exp(0.5f * MathF.Log(currentBetaT)) * noise;
            case DDPMVarianceType.Learned:
                return predictedVariance!.pow(0.5) * noise;
            default:
            {
                // learned_range (Nichol and Dhariwal 2021, eq. 15): interpolate log beta~_t and log beta_t by v in [-1, 1].
                float minLog = MathF.Log(posterior), maxLog = MathF.Log(currentBetaT);
                var frac = (predictedVariance! + 1) / 2;
                var logVariance = frac * maxLog + (1 - frac) * minLog;
                return (0.5 * logVariance).exp() * noise;
            }
        }
    }

    /// <summary>The forward process q(x_t | x_0) (eq. 4): sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) noise, for training.</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) integer timesteps in 0..T-1.</param>
    /// <returns>(B, C, H, W) x_t, in the samples' dtype.</returns>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.AddNoise(alphasCumprod, originalSamples, noise, timesteps);

    /// <summary>The v-prediction training target sqrt(alpha-bar_t) noise - sqrt(1 - alpha-bar_t) x_0.</summary>
    /// <param name="sample">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) the noise added to it.</param>
    /// <param name="timesteps">(B) or (1) integer timesteps in 0..T-1.</param>
    public Tensor GetVelocity(Tensor sample, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.GetVelocity(alphasCumprod, sample, noise, timesteps);

    // IDiffusionScheduler, for loops written against the contract: its double timesteps are this scheduler's integer
    // ones, and the step index plays no part (each step is keyed by its timestep), so SetBeginIndex has nothing to do.
    SchedulerConfig IDiffusionScheduler.Config => Config;
    int IDiffusionScheduler.Order => 1;
    IReadOnlyList<double> IDiffusionScheduler.Timesteps => NoiseSchedule.AsDoubles(timesteps);
    void IDiffusionScheduler.SetBeginIndex(int beginIndex) => ArgumentOutOfRangeException.ThrowIfNegative(beginIndex);
    Tensor IDiffusionScheduler.ScaleModelInput(Tensor sample, double timestep) => sample;

    SchedulerOutput IDiffusionScheduler.Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise, Generator? generator)
    {
        var output = Step(modelOutput, NoiseSchedule.IntegerTimestep(timestep, nameof(timestep)), sample, noise, noise is null ? generator : null);
        return new SchedulerOutput(output.PrevSample, output.PredOriginalSample);
    }
}
