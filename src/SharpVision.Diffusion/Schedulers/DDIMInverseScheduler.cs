namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// DDIM inversion: runs the deterministic DDIM update (Song et al. 2021, eq. 12 with eta = 0,
/// https://arxiv.org/abs/2010.02502) toward noise, mapping a clean sample to the latent noise DDIM sampling would
/// turn back into it (used by image editing such as null-text inversion and DiffEdit).
/// Follows diffusers 0.40 <c>schedulers/scheduling_ddim_inverse.py</c> (DDIMInverseScheduler), with the step's
/// starting timestep taken from the schedule (see <see cref="Step"/>) and <c>linspace</c> spacing supported.
/// </summary>
public sealed class DDIMInverseScheduler : IDiffusionScheduler
{
    readonly float[] betas;
    readonly float[] alphasCumprod;
    long[] timesteps;

    /// <summary>The configuration this scheduler was built from.</summary>
    public DDIMInverseSchedulerConfig Config { get; }

    /// <summary>alpha_bar before the first step: 1 with set_alpha_to_one (or the deprecated set_alpha_to_zero key, as diffusers reads it), else alpha_bar_0.</summary>
    public float InitialAlphaCumprod { get; }

    /// <summary>The inference steps set by <see cref="SetTimesteps"/>; null before.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>The timesteps of the inversion loop, ascending; all T training timesteps before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<long> Timesteps => timesteps;

    /// <summary>(T) float32 betas.</summary>
    public Tensor Betas => torch.tensor(betas);

    /// <summary>(T) float32 alpha_bar_t, as diffusers computes it.</summary>
    public Tensor AlphasCumprod => torch.tensor(alphasCumprod);

    /// <exception cref="ArgumentException">An option value is not defined, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public DDIMInverseScheduler(DDIMInverseSchedulerConfig? config = null)
    {
        Config = config ?? new DDIMInverseSchedulerConfig();
        betas = NoiseSchedule.ConfigBetas(Config, Config.TimestepSpacing, Config.RescaleBetasZeroSnr);
        alphasCumprod = NoiseSchedule.AlphasCumprod(betas);
        // diffusers still honours the deprecated key set_alpha_to_zero, with the meaning of set_alpha_to_one.
        bool setAlphaToOne = Config.SetAlphaToOne;
        if (Config.ExtensionData?.TryGetValue("set_alpha_to_zero", out var legacy) == true && legacy.ValueKind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
            setAlphaToOne = legacy.GetBoolean();
        InitialAlphaCumprod = setAlphaToOne ? 1f : alphasCumprod[0];
        timesteps = Enumerable.Range(0, Config.NumTrainTimesteps).Select(t => (long)t).ToArray();
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static DDIMInverseScheduler FromConfigFile(string path) => new(DDIMInverseSchedulerConfig.Load(path));

    /// <summary>
    /// Picks the <paramref name="numInferenceSteps"/> timesteps, ascending: the DDIM sampling schedule of the same
    /// spacing, reversed (diffusers supports leading and trailing; linspace is the same reversal).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public void SetTimesteps(int numInferenceSteps)
    {
        var descending = NoiseSchedule.DescendingTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset);
        Array.Reverse(descending);
        timesteps = descending;
        NumInferenceSteps = numInferenceSteps;
    }

    /// <summary>
    /// The timestep a step to <paramref name="timestep"/> starts from: the entry before it in <see cref="Timesteps"/>,
    /// or -1 for the first (meaning <see cref="InitialAlphaCumprod"/>, the clean sample).
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called.</exception>
    /// <exception cref="ArgumentException"><paramref name="timestep"/> is not in the schedule.</exception>
    public long StartTimestep(long timestep)
    {
        RequireTimesteps();
        for (int i = 0; i < timesteps.Length; i++)
            if (timesteps[i] == timestep) return i > 0 ? timesteps[i - 1] : -1;
        return NoiseSchedule.NextInSchedule(timesteps, timestep, nameof(timestep)); // not found: throws naming the schedule
    }

    /// <summary>
    /// diffusers' rule for the same: <c>min(t - T // N, T - 1)</c>. It differs from <see cref="StartTimestep"/> for
    /// <c>trailing</c> spacing when N does not divide T (the forward counterpart of diffusers issues #9261, #11347).
    /// Pass its value as <c>fromTimestep</c> to reproduce diffusers.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called.</exception>
    public long ReferenceStartTimestep(long timestep)
    {
        RequireTimesteps();
        return Math.Min(timestep - Config.NumTrainTimesteps / NumInferenceSteps!.Value, Config.NumTrainTimesteps - 1);
    }

    /// <summary>DDIM needs no input scaling; returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, long? timestep = null) => sample;

    /// <summary>One inversion step x_s -> x_t with s the schedule's entry before t (eq. 12 with sigma = 0, run forward).</summary>
    /// <remarks>
    /// <para>diffusers takes s as <c>t - T // N</c>; for trailing spacing with N not dividing T that is not the timestep
    /// the previous step reached. Here s is the previous entry of <see cref="Timesteps"/> unless
    /// <paramref name="fromTimestep"/> names it (pass <see cref="ReferenceStartTimestep"/> to reproduce diffusers).</para>
    /// <list type="table">
    /// <listheader><term>variable</term><description>symbol (Song et al. 2021)</description></listheader>
    /// <item><term>alphaProdS, alphaProdT</term><description>alpha_s (start) and alpha_t (target), DDPM's alpha-bar</description></item>
    /// <item><term>predEpsilon</term><description>epsilon_theta(x_s, s), approximated by the model's output at t</description></item>
    /// <item><term>predOriginalSample</term><description>f_theta, the predicted x_0</description></item>
    /// <item><term>nextSample</term><description>x_t = sqrt(alpha_t) x_0 + sqrt(1 - alpha_t) epsilon</description></item>
    /// </list>
    /// </remarks>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise, x_0 or v by prediction_type).</param>
    /// <param name="timestep">t, the target: an entry of <see cref="Timesteps"/> (any training timestep when <paramref name="fromTimestep"/> is given).</param>
    /// <param name="sample">(B, C, H, W) x_s.</param>
    /// <param name="fromTimestep">s, the timestep <paramref name="sample"/> is at; negative means the clean sample.</param>
    /// <returns><see cref="DDIMSchedulerOutput.PrevSample"/> is x_t (diffusers' name kept).</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called.</exception>
    /// <exception cref="ArgumentException">Shapes differ or the timestep is not in the schedule.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A timestep outside 0..T-1.</exception>
    public DDIMSchedulerOutput Step(Tensor modelOutput, long timestep, Tensor sample, long? fromTimestep = null)
    {
        RequireTimesteps();
        NoiseSchedule.RequireSameShape(sample, modelOutput, nameof(sample), nameof(modelOutput));
        NoiseSchedule.RequireTrainTimestep(timestep, Config.NumTrainTimesteps, nameof(timestep));
        if (fromTimestep is { } given && given >= Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(fromTimestep), given, $"fromTimestep must be < num_train_timesteps ({Config.NumTrainTimesteps}); got {given}");

        using var scope = torch.NewDisposeScope();

        // 1. Where this step starts.
        long from = fromTimestep ?? StartTimestep(timestep);

        // 2. alpha at the start and the target, float32 as in diffusers.
        float alphaProdS = from >= 0 ? alphasCumprod[from] : InitialAlphaCumprod;
        float alphaProdT = alphasCumprod[timestep];
        float betaProdS = 1f - alphaProdS;
        float sqrtAlphaProdS = MathF.Sqrt(alphaProdS), sqrtBetaProdS = MathF.Sqrt(betaProdS);

        // 3. Predicted x_0 and epsilon at the start (eq. 12's "predicted x_0").
        Tensor predOriginalSample, predEpsilon;
        switch (Config.PredictionType)
        {
            case PredictionType.Epsilon:
                predOriginalSample = (sample - sqrtBetaProdS * modelOutput) / sqrtAlphaProdS;
                predEpsilon = modelOutput;
                break;
            case PredictionType.Sample:
                predOriginalSample = modelOutput;
                predEpsilon = (sample - sqrtAlphaProdS * predOriginalSample) / sqrtBetaProdS;
                break;
            default:
                predOriginalSample = sqrtAlphaProdS * sample - sqrtBetaProdS * modelOutput;
                predEpsilon = sqrtAlphaProdS * modelOutput + sqrtBetaProdS * sample;
                break;
        }

        // 4. Clip x_0.
        if (Config.ClipSample)
            predOriginalSample = predOriginalSample.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 5. "Direction pointing to x_t" with sigma = 0, then 6. x_t = sqrt(alpha_t) x_0 + direction.
        var predSampleDirection = MathF.Sqrt(1f - alphaProdT) * predEpsilon;
        var nextSample = MathF.Sqrt(alphaProdT) * predOriginalSample + predSampleDirection;

        return new DDIMSchedulerOutput(NoiseSchedule.Escape(nextSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }

    /// <summary>The forward process q(x_t | x_0): sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise.</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) integer timesteps in 0..T-1.</param>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.AddNoise(alphasCumprod, originalSamples, noise, timesteps);

    void RequireTimesteps()
    {
        if (NumInferenceSteps is null)
            throw new InvalidOperationException("DDIMInverseScheduler: call SetTimesteps(numInferenceSteps) before stepping");
    }

    // IDiffusionScheduler, for loops written against the contract: its double timesteps are this scheduler's integer
    // ones, and the step index plays no part (each step is keyed by its timestep), so SetBeginIndex has nothing to do.
    SchedulerConfig IDiffusionScheduler.Config => Config;
    int IDiffusionScheduler.Order => 1;
    double IDiffusionScheduler.InitNoiseSigma => 1.0;
    IReadOnlyList<double> IDiffusionScheduler.Timesteps => NoiseSchedule.AsDoubles(timesteps);
    void IDiffusionScheduler.SetBeginIndex(int beginIndex) => ArgumentOutOfRangeException.ThrowIfNegative(beginIndex);
    Tensor IDiffusionScheduler.ScaleModelInput(Tensor sample, double timestep) => sample;

    SchedulerOutput IDiffusionScheduler.Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise, Generator? generator)
    {
        var output = Step(modelOutput, NoiseSchedule.IntegerTimestep(timestep, nameof(timestep)), sample);
        return new SchedulerOutput(output.PrevSample, output.PredOriginalSample);
    }
}
