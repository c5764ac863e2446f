namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Euler's method on the probability-flow ODE in sigma space, Algorithm 2 of Karras et al. 2022 ("Elucidating the
/// design space of diffusion-based generative models", https://arxiv.org/abs/2206.00364), with its optional
/// stochastic "churn". Follows diffusers 0.40 <c>schedulers/scheduling_euler_discrete.py</c> (EulerDiscreteScheduler).
/// </summary>
/// <remarks>
/// Loop: <c>SetTimesteps(n)</c>, x = noise * <see cref="SigmaSpaceScheduler.InitNoiseSigma"/>, then for each t:
/// <c>x = Step(unet(ScaleModelInput(x, t), t), t, x).PrevSample</c>. <see cref="SigmaSpaceScheduler.SetTimesteps"/>
/// picks the timesteps by <c>timestep_spacing</c>, their sigmas by <c>interpolation_type</c> (then respaced when a
/// use_*_sigmas flag asks) and appends the final sigma (<c>final_sigmas_type</c>). With <c>log_linear</c> diffusers makes
/// N + 1 log-spaced levels before the final one, so <see cref="SigmaSpaceScheduler.Sigmas"/> has N + 2 entries (the
/// loop uses the first N + 1); reproduced as is. One deliberate difference: a float64 sample stays float64 (diffusers
/// casts every sample to float32); float16/bfloat16 are computed in float32 as in diffusers.
/// </remarks>
public sealed class EulerDiscreteScheduler : SigmaSpaceScheduler
{
    /// <summary>The configuration this scheduler was built from.</summary>
    public override EulerDiscreteSchedulerConfig Config { get; }

    /// <summary>One model evaluation per step.</summary>
    public override int Order => 1;

    /// <exception cref="ArgumentException">An option value is not defined, more than one use_*_sigmas flag is set, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive, or sigma_min/sigma_max not positive.</exception>
    public EulerDiscreteScheduler(EulerDiscreteSchedulerConfig? config = null)
        : base(config ??= new(), TrainingAlphasCumprod(config, config.RescaleBetasZeroSnr))
    {
        Config = config;
        SchedulerOptions.RequireDefined(config.InterpolationType);
        SchedulerOptions.RequireDefined(config.TimestepType);
        SchedulerOptions.RequireDefined(config.FinalSigmasType);
        if (config.SigmaMin is { } lo) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lo, "sigma_min");
        if (config.SigmaMax is { } hi) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hi, "sigma_max");

        // Before SetTimesteps: every training level, largest first, then 0, at the timesteps T - 1 .. 0.
        var levels = trainingSigmas.Reverse().Append(0f).ToArray();
        var steps = SigmaSchedule.Linspace(0, config.NumTrainTimesteps - 1, config.NumTrainTimesteps).Reverse().Select(t => (double)(float)t).ToArray();
        SetSchedule(levels, ContinuousTimesteps ? ContinuousTimestepsOf(levels) : steps, null);
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static EulerDiscreteScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<EulerDiscreteSchedulerConfig>(path));

    bool ContinuousTimesteps => Config.TimestepType == TimestepType.Continuous && Config.PredictionType == PredictionType.VPrediction;

    /// <summary>Timesteps by <c>timestep_spacing</c>, their sigmas by <c>interpolation_type</c> (then respaced when a use_*_sigmas flag asks), and the final sigma.</summary>
    private protected override void BuildSchedule(int n, int? numInferenceSteps)
    {
        var steps = SigmaSchedule.InferenceTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, n, Config.StepsOffset);
        double[] timesteps = steps.Select(t => (double)t).ToArray();
        double[] levels = Config.InterpolationType == InterpolationType.Linear
            ? SigmaSchedule.AtTimesteps(trainingSigmas, timesteps)
            : LogLinearLevels(n);
        (levels, timesteps) = SigmaSchedule.Respace(levels, timesteps, trainingSigmas, sigmaSpacing, n, Config.SigmaMin, Config.SigmaMax);

        float last = Config.FinalSigmasType == FinalSigmasType.SigmaMin ? trainingSigmas[0] : 0f;
        var sigmas = levels.Select(s => (float)s).Append(last).ToArray();
        SetSchedule(sigmas, ContinuousTimesteps ? ContinuousTimestepsOf(sigmas) : timesteps.Select(t => (double)(float)t).ToArray(), numInferenceSteps);
    }

    /// <summary>N + 1 levels from the largest training sigma to the smallest, evenly in log sigma (float32 torch.linspace, as diffusers).</summary>
    double[] LogLinearLevels(int numInferenceSteps)
    {
        using var scope = torch.NewDisposeScope();
        var line = torch.linspace(MathF.Log(trainingSigmas[^1]), MathF.Log(trainingSigmas[0]), numInferenceSteps + 1, dtype: ScalarType.Float32).exp();
        return line.data<float>().Select(s => (double)s).ToArray();
    }

    /// <summary>The EDM timestep input c_noise = 0.25 ln sigma (Karras et al. 2022, table 1) for every level but the final one.</summary>
    static double[] ContinuousTimestepsOf(float[] levels) =>
        levels.Take(levels.Length - 1).Select(s => (double)(0.25f * MathF.Log(s))).ToArray();

    /// <summary>A deterministic Euler step (no churn).</summary>
    /// <inheritdoc cref="Step(Tensor, double, Tensor, double, double, double, double, Tensor?, Generator?)"/>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null) =>
        Step(modelOutput, timestep, sample, 0.0, 0.0, double.PositiveInfinity, 1.0, noise, generator);

    /// <summary>
    /// One Euler step from sigma_i to sigma_{i+1}, Algorithm 2 of Karras et al. 2022 (lines 4-8, without the
    /// second-order correction): with churn, first raise the noise level to sigma_hat = (1 + gamma) sigma_i by adding
    /// fresh noise, then follow the ODE derivative d = (x - D(x)) / sigma_hat down to sigma_{i+1}.
    /// </summary>
    /// <remarks>
    /// <list type="table">
    /// <listheader><term>variable</term><description>symbol (Karras et al. 2022, Algorithm 2)</description></listheader>
    /// <item><term>sigma, sigmaHat</term><description>t_i, t^_i = t_i + gamma_i t_i</description></item>
    /// <item><term>gamma</term><description>gamma_i = min(S_churn / N, sqrt(2) - 1) for t_i in [S_tmin, S_tmax], else 0</description></item>
    /// <item><term>predOriginalSample</term><description>D_theta(x^_i; t^_i), the denoised estimate</description></item>
    /// <item><term>derivative</term><description>d_i = (x^_i - D_theta) / t^_i</description></item>
    /// <item><term>dt</term><description>t_{i+1} - t^_i</description></item>
    /// </list>
    /// </remarks>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise, x_0 or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="SigmaSpaceScheduler.Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) x at sigma_i.</param>
    /// <param name="sChurn">S_churn: total churn over the schedule; 0 for the deterministic ODE solver.</param>
    /// <param name="sTmin">S_tmin: churn only at sigma &gt;= this.</param>
    /// <param name="sTmax">S_tmax: churn only at sigma &lt;= this.</param>
    /// <param name="sNoise">S_noise: scale of the churn noise.</param>
    /// <param name="noise">(B, C, H, W) the churn noise (used only when gamma &gt; 0); drawn when null.</param>
    /// <param name="generator">Source of drawn noise when <paramref name="noise"/> is null.</param>
    /// <exception cref="InvalidOperationException"><see cref="SigmaSpaceScheduler.SetTimesteps"/> has not been called, or the schedule is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ, both noise and generator given, or the first timestep is not in the schedule.</exception>
    public SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, double sChurn, double sTmin = 0.0,
        double sTmax = double.PositiveInfinity, double sNoise = 1.0, Tensor? noise = null, Generator? generator = null)
    {
        int i = BeginStep(modelOutput, timestep, sample, noise, generator);
        if (sChurn < 0 || double.IsNaN(sChurn)) throw new ArgumentOutOfRangeException(nameof(sChurn), sChurn, $"sChurn must be >= 0; got {sChurn}");
        using var scope = torch.NewDisposeScope();

        // 1. Churn: gamma_i and the raised level sigma_hat; add noise of variance sigma_hat^2 - sigma^2.
        float sigma = sigmas[i];
        double gamma = sTmin <= sigma && sigma <= sTmax ? Math.Min(sChurn / (sigmas.Length - 1), Math.Sqrt(2) - 1) : 0.0;
        float sigmaHat = sigma * (float)(gamma + 1);
        var x = sample.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? sample.to(ScalarType.Float32) : sample;
        if (gamma > 0)
        {
            var eps = NoiseOrDraw(noise, modelOutput, generator) * sNoise;
            x = x + eps * MathF.Sqrt(sigmaHat * sigmaHat - sigma * sigma);
        }

        // 2. The denoised estimate D(x^_i); diffusers uses sigma_hat for epsilon and sigma for v.
        var predOriginalSample = Config.PredictionType == PredictionType.Epsilon
            ? x - sigmaHat * modelOutput
            : PredictOriginalSample(Config.PredictionType, modelOutput, x, sigma);

        // 3. Euler step along d_i = (x^_i - D) / sigma_hat to sigma_{i+1}.
        var derivative = (x - predOriginalSample) / sigmaHat;
        float dt = sigmas[i + 1] - sigmaHat;
        var prevSample = (x + derivative * dt).to(modelOutput.dtype);

        EndStep();
        return new SchedulerOutput(NoiseSchedule.Escape(prevSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }
}
