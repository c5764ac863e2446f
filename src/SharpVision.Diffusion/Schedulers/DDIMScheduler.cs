using SharpVision.Nn;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Denoising diffusion implicit models (Song, Meng and Ermon 2021, https://arxiv.org/abs/2010.02502): deterministic
/// (eta = 0) or partly stochastic sampling in far fewer steps than the model was trained with.
/// Follows diffusers 0.40 <c>schedulers/scheduling_ddim.py</c> (DDIMScheduler), with one deliberate difference:
/// the timestep a step lands on (see <see cref="Step"/>).
/// </summary>
/// <remarks>
/// Typical loop: <c>SetTimesteps(50)</c>, then for each <c>t</c> in <see cref="Timesteps"/>:
/// <c>x = Step(unet(x, t), t, x).PrevSample</c>. The scheduler keeps no tensors between calls; it owns none
/// that a caller's dispose scope could free.
/// </remarks>
public sealed class DDIMScheduler : IDiffusionScheduler
{
    readonly float[] betas;
    readonly float[] alphasCumprod;
    long[] timesteps;

    /// <summary>The configuration this scheduler was built from.</summary>
    public DDIMSchedulerConfig Config { get; }

    /// <summary>alpha_bar used after the last step: 1 with set_alpha_to_one, else alpha_bar_0 (float32, as diffusers).</summary>
    public float FinalAlphaCumprod { get; }

    /// <summary>The inference steps set by <see cref="SetTimesteps"/>; null before.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>
    /// eta of the steps a contract loop (<see cref="IDiffusionScheduler.Step"/>) runs, as diffusers pipelines pass
    /// <c>eta</c> to DDIM's step: 0 (default) is deterministic DDIM. <see cref="Step"/> takes its own eta argument.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or NaN.</exception>
    public double Eta
    {
        get => eta;
        set => eta = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"eta must be >= 0; got {value}");
    }
    double eta;

    /// <summary>Standard deviation of the initial noise: 1 for DDIM.</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>The timesteps of the sampling loop, descending; all T training timesteps before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<long> Timesteps => timesteps;

    /// <summary>(T) float32 betas.</summary>
    public Tensor Betas => torch.tensor(betas);

    /// <summary>(T) float32 alpha_bar_t = prod_{s &lt;= t} (1 - beta_s), as diffusers computes it.</summary>
    public Tensor AlphasCumprod => torch.tensor(alphasCumprod);

    /// <exception cref="ArgumentException">An option value is not defined, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public DDIMScheduler(DDIMSchedulerConfig? config = null)
    {
        Config = config ?? new DDIMSchedulerConfig();
        betas = NoiseSchedule.ConfigBetas(Config, Config.TimestepSpacing, Config.RescaleBetasZeroSnr);
        alphasCumprod = NoiseSchedule.AlphasCumprod(betas);
        FinalAlphaCumprod = Config.SetAlphaToOne ? 1f : alphasCumprod[0];
        timesteps = Enumerable.Range(0, Config.NumTrainTimesteps).Reverse().Select(t => (long)t).ToArray();
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static DDIMScheduler FromConfigFile(string path) => new(DDIMSchedulerConfig.Load(path));

    /// <summary>Picks the <paramref name="numInferenceSteps"/> timesteps of the sampling loop by <c>timestep_spacing</c>.</summary>
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

    /// <summary>
    /// The timestep a step from <paramref name="timestep"/> lands on: the next entry of <see cref="Timesteps"/>,
    /// or -1 after the last one (meaning <see cref="FinalAlphaCumprod"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called.</exception>
    /// <exception cref="ArgumentException"><paramref name="timestep"/> is not in the schedule.</exception>
    public long PreviousTimestep(long timestep)
    {
        RequireTimesteps();
        return NoiseSchedule.NextInSchedule(timesteps, timestep, nameof(timestep));
    }

    /// <summary>
    /// diffusers' rule for the same: <c>t - T // N</c>. It equals <see cref="PreviousTimestep"/> for <c>leading</c>
    /// spacing and for <c>trailing</c> when N divides T, but not for <c>linspace</c> nor for <c>trailing</c> with N not
    /// dividing T (diffusers issues #9261, #11347, #12633). Pass its value as <c>prevTimestep</c> to reproduce diffusers.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called.</exception>
    public long ReferencePreviousTimestep(long timestep)
    {
        RequireTimesteps();
        return timestep - Config.NumTrainTimesteps / NumInferenceSteps!.Value;
    }

    /// <summary>DDIM needs no input scaling; returns <paramref name="sample"/> (for interchangeability with other schedulers).</summary>
    public Tensor ScaleModelInput(Tensor sample, long? timestep = null) => sample;

    /// <summary>
    /// One reverse step x_t -> x_{t_prev} with DDIM's generalised update (paper eq. 12), stochastic for eta &gt; 0.
    /// </summary>
    /// <remarks>
    /// <para>t_prev is the next entry of <see cref="Timesteps"/> (-1 after the last: alpha_bar = <see cref="FinalAlphaCumprod"/>).
    /// diffusers uses <c>t - T // N</c> instead, which is a different timestep than the one the loop visits next for
    /// <c>linspace</c> spacing and for <c>trailing</c> spacing when N does not divide T: the step then jumps to a noise
    /// level the following step does not start from (diffusers issues #9261, #11347, #12633). To reproduce diffusers
    /// exactly, pass <c>prevTimestep: ReferencePreviousTimestep(t)</c>.</para>
    /// <para>Symbols (paper, Song et al. 2021, https://arxiv.org/abs/2010.02502):</para>
    /// <list type="table">
    /// <listheader><term>variable</term><description>symbol</description></listheader>
    /// <item><term>alphaProdT, alphaProdTPrev</term><description>alpha_t, alpha_{t-1} (the paper's alpha is DDPM's alpha-bar)</description></item>
    /// <item><term>predEpsilon</term><description>epsilon_theta(x_t, t)</description></item>
    /// <item><term>predOriginalSample</term><description>f_theta(x_t, t), the "predicted x_0" of eq. 12</description></item>
    /// <item><term>stdDevT</term><description>sigma_t(eta), eq. 16</description></item>
    /// <item><term>eta</term><description>eta: 0 is DDIM, 1 is DDPM's ancestral variance</description></item>
    /// <item><term>predSampleDirection</term><description>the "direction pointing to x_t" of eq. 12</description></item>
    /// <item><term>prevSample</term><description>x_{t-1}</description></item>
    /// </list>
    /// </remarks>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction at <paramref name="timestep"/> (noise, x_0 or v by prediction_type).</param>
    /// <param name="timestep">t, an entry of <see cref="Timesteps"/> (any training timestep when <paramref name="prevTimestep"/> is given).</param>
    /// <param name="sample">(B, C, H, W) x_t.</param>
    /// <param name="eta">Weight of the added noise, eta of eq. 16; 0 for deterministic DDIM.</param>
    /// <param name="useClippedModelOutput">Re-derive epsilon from the clipped x_0 (as GLIDE does); no effect without clipping.</param>
    /// <param name="varianceNoise">(B, C, H, W) the standard normal noise for eta &gt; 0; drawn when null.</param>
    /// <param name="generator">Source of the drawn noise when <paramref name="varianceNoise"/> is null.</param>
    /// <param name="prevTimestep">The timestep to step to; negative means past the end. Default: the next entry of the schedule.</param>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called.</exception>
    /// <exception cref="ArgumentException">Shapes differ, both noise and generator given, or the timestep is not in the schedule.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timestep outside 0..T-1, or eta &lt; 0.</exception>
    public DDIMSchedulerOutput Step(Tensor modelOutput, long timestep, Tensor sample, double eta = 0.0,
        bool useClippedModelOutput = false, Tensor? varianceNoise = null, Generator? generator = null, long? prevTimestep = null)
    {
        RequireTimesteps();
        NoiseSchedule.RequireSameShape(sample, modelOutput, nameof(sample), nameof(modelOutput));
        NoiseSchedule.RequireTrainTimestep(timestep, Config.NumTrainTimesteps, nameof(timestep));
        if (eta < 0 || double.IsNaN(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, $"eta must be >= 0; got {eta}");
        if (varianceNoise is not null && generator is not null)
            throw new ArgumentException("pass either varianceNoise or generator, not both", nameof(varianceNoise));
        if (varianceNoise is not null) NoiseSchedule.RequireSameShape(modelOutput, varianceNoise, nameof(modelOutput), nameof(varianceNoise));
        if (prevTimestep is { } given && given >= Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(prevTimestep), given, $"prevTimestep must be < num_train_timesteps ({Config.NumTrainTimesteps}); got {given}");

        using var scope = torch.NewDisposeScope();

        // 1. The timestep this step lands on: the schedule's next entry unless the caller names one.
        long prev = prevTimestep ?? NoiseSchedule.NextInSchedule(timesteps, timestep, nameof(timestep));

        // 2. alpha_t and alpha_{t-1}. Scalars stay float32, as diffusers' 0-dim float32 tensors do.
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = prev >= 0 ? alphasCumprod[prev] : FinalAlphaCumprod;
        float betaProdT = 1f - alphaProdT;
        float sqrtAlphaProdT = MathF.Sqrt(alphaProdT), sqrtBetaProdT = MathF.Sqrt(betaProdT);

        // 3. Predicted x_0 of eq. 12, and the noise epsilon it implies, from whatever the model predicts.
        Tensor predOriginalSample, predEpsilon;
        switch (Config.PredictionType)
        {
            case PredictionType.Epsilon:
                predOriginalSample = (sample - sqrtBetaProdT * modelOutput) / sqrtAlphaProdT;
                predEpsilon = modelOutput;
                break;
            case PredictionType.Sample:
                predOriginalSample = modelOutput;
                predEpsilon = (sample - sqrtAlphaProdT * predOriginalSample) / sqrtBetaProdT;
                break;
            default: // v_prediction: v = sqrt(alpha_t) eps - sqrt(1 - alpha_t) x_0
                predOriginalSample = sqrtAlphaProdT * sample - sqrtBetaProdT * modelOutput;
                predEpsilon = sqrtAlphaProdT * modelOutput + sqrtBetaProdT * sample;
                break;
        }

        // 4. Keep x_0 in range: dynamic thresholding, else plain clipping.
        if (Config.Thresholding)
            predOriginalSample = NoiseSchedule.Threshold(predOriginalSample, Config.DynamicThresholdingRatio, Config.SampleMaxValue);
        else if (Config.ClipSample)
            predOriginalSample = predOriginalSample.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 5. sigma_t(eta) of eq. 16: eta * sqrt((1 - alpha_{t-1}) / (1 - alpha_t)) * sqrt(1 - alpha_t / alpha_{t-1}).
        float variance = Variance(alphaProdT, alphaProdTPrev);
        float stdDevT = (float)eta * MathF.Sqrt(variance);

        // With clipping, the epsilon consistent with the clipped x_0 differs from the model's.
        if (useClippedModelOutput)
            predEpsilon = (sample - sqrtAlphaProdT * predOriginalSample) / sqrtBetaProdT;

        // 6. "Direction pointing to x_t" of eq. 12: sqrt(1 - alpha_{t-1} - sigma_t^2) * epsilon.
        var predSampleDirection = MathF.Sqrt(1f - alphaProdTPrev - stdDevT * stdDevT) * predEpsilon;

        // 7. x_{t-1} of eq. 12 before the random term: sqrt(alpha_{t-1}) * x_0 + direction.
        var prevSample = MathF.Sqrt(alphaProdTPrev) * predOriginalSample + predSampleDirection;

        // 8. The random term sigma_t * z of eq. 12, only when eta > 0.
        if (eta > 0)
        {
            var noise = varianceNoise ?? torch.randn(modelOutput.shape, dtype: modelOutput.dtype, device: modelOutput.device, generator: generator);
            prevSample = prevSample + stdDevT * noise;
        }

        return new DDIMSchedulerOutput(NoiseSchedule.Escape(prevSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }

    /// <summary>sigma_t^2 / eta^2 of eq. 16, in float32.</summary>
    static float Variance(float alphaProdT, float alphaProdTPrev)
    {
        float betaProdT = 1f - alphaProdT, betaProdTPrev = 1f - alphaProdTPrev;
        return betaProdTPrev / betaProdT * (1f - alphaProdT / alphaProdTPrev);
    }

    /// <summary>The forward process q(x_t | x_0): sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise (training, img2img).</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) integer timesteps in 0..T-1.</param>
    /// <returns>(B, C, H, W) x_t, in the samples' dtype.</returns>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.AddNoise(alphasCumprod, originalSamples, noise, timesteps);

    /// <summary>The v-prediction target sqrt(alpha_bar_t) noise - sqrt(1 - alpha_bar_t) x_0.</summary>
    /// <param name="sample">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) the noise added to it.</param>
    /// <param name="timesteps">(B) or (1) integer timesteps in 0..T-1.</param>
    public Tensor GetVelocity(Tensor sample, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.GetVelocity(alphasCumprod, sample, noise, timesteps);

    void RequireTimesteps()
    {
        if (NumInferenceSteps is null)
            throw new InvalidOperationException("DDIMScheduler: call SetTimesteps(numInferenceSteps) before stepping");
    }

    // IDiffusionScheduler, for loops written against the contract: its double timesteps are this scheduler's integer
    // ones, and the step index plays no part (each step is keyed by its timestep), so SetBeginIndex has nothing to do.
    SchedulerConfig IDiffusionScheduler.Config => Config;
    int IDiffusionScheduler.Order => 1;
    IReadOnlyList<double> IDiffusionScheduler.Timesteps => NoiseSchedule.AsDoubles(timesteps);
    void IDiffusionScheduler.SetBeginIndex(int beginIndex) => ArgumentOutOfRangeException.ThrowIfNegative(beginIndex);
    Tensor IDiffusionScheduler.ScaleModelInput(Tensor sample, double timestep) => sample;

    SchedulerOutput IDiffusionScheduler.Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise, Generator? generator)
    {
        var output = Step(modelOutput, NoiseSchedule.IntegerTimestep(timestep, nameof(timestep)), sample, Eta, varianceNoise: noise, generator: noise is null ? generator : null);
        return new SchedulerOutput(output.PrevSample, output.PredOriginalSample);
    }
}
