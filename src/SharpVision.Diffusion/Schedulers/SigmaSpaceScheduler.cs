using SharpVision.Nn;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// What diffusers' k-diffusion-style schedulers share (Euler, Euler ancestral, Heun, LMS, KDPM2, KDPM2 ancestral,
/// whose code diffusers copies from one to the next): the noise levels sigma = sqrt((1 - alpha_bar) / alpha_bar) of the
/// training schedule, the table of inference sigmas and the timesteps the loop visits, the step index (found from the
/// first timestep, or set by <see cref="SetBeginIndex"/>), the model-input scaling x / sqrt(sigma^2 + 1), the initial
/// noise level, x_0 from the model output at a given sigma, and the forward process x_0 + sigma * noise.
/// </summary>
/// <remarks>
/// In this parameterisation (Karras et al. 2022, https://arxiv.org/abs/2206.00364) x_sigma = x_0 + sigma * noise is the
/// DDPM sample x_t divided by sqrt(alpha_bar_t); the model, trained on x_t, sees x_sigma / sqrt(sigma^2 + 1).
/// Timesteps are float32 values, as diffusers keeps them, and are compared in float32. Scalars (sigma, dt) stay float32
/// as diffusers' 0-dim float32 tensors do.
/// </remarks>
public abstract class SigmaSpaceScheduler : IDiffusionScheduler
{
    private protected readonly float[] alphasCumprod;
    /// <summary>The T training sigmas, increasing with t (float32).</summary>
    private protected readonly float[] trainingSigmas;
    /// <summary>The inference noise levels, one per entry of <see cref="Timesteps"/> plus the final one.</summary>
    private protected float[] sigmas = [];
    double[] timesteps = [];
    double[] sigmasView = [];
    int? stepIndex, beginIndex;
    readonly TimestepSpacing spacing;
    readonly int stepsOffset;
    /// <summary>How the inference sigmas are spaced (the config's use_*_sigmas flags).</summary>
    private protected readonly SigmaSpacing sigmaSpacing;
    /// <summary>x_i, kept between the two stages of a two-stage solver step (Heun, KDPM2); null in the first stage.</summary>
    private protected Tensor? firstStageSample;

    private protected SigmaSpaceScheduler(TimestepSpacing timestepSpacing, int stepsOffset, float[] alphasCumprod,
        SigmaSpacing sigmaSpacing = SigmaSpacing.Interpolated)
    {
        SchedulerOptions.RequireDefined(timestepSpacing);
        spacing = timestepSpacing;
        this.stepsOffset = stepsOffset;
        this.sigmaSpacing = sigmaSpacing;
        this.alphasCumprod = alphasCumprod;
        trainingSigmas = SigmaSchedule.FromAlphasCumprod(alphasCumprod);
    }

    /// <summary>From a config with respaceable sigmas: its timestep spacing, steps offset and use_*_sigmas flags.</summary>
    /// <exception cref="ArgumentException">More than one use_*_sigmas flag is set.</exception>
    private protected SigmaSpaceScheduler(SigmaSchedulerConfig config, float[] alphasCumprod)
        : this(config.TimestepSpacing, config.StepsOffset, alphasCumprod,
            SigmaSchedule.SpacingOf(config.UseKarrasSigmas, config.UseExponentialSigmas, config.UseBetaSigmas))
    {
    }

    /// <inheritdoc/>
    public abstract SchedulerConfig Config { get; }

    /// <inheritdoc/>
    public abstract int Order { get; }

    /// <summary>Largest sigma of the schedule (<c>linspace</c>, <c>trailing</c>), or sqrt(sigma_max^2 + 1) for <c>leading</c>, as diffusers; float32.</summary>
    public double InitNoiseSigma
    {
        get
        {
            float max = sigmas.Length == 0 ? 0f : sigmas.Max();
            return spacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : MathF.Sqrt(max * max + 1f);
        }
    }

    /// <inheritdoc/>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>The timesteps of the loop (float32 values); before <see cref="SetTimesteps"/>, those diffusers' constructor sets.</summary>
    public IReadOnlyList<double> Timesteps => timesteps;

    /// <summary>The noise levels of the loop (float32 values), as diffusers' <c>sigmas</c>: interleaved like <see cref="Timesteps"/> for the two-stage solvers, the final level last.</summary>
    public IReadOnlyList<double>? Sigmas => sigmasView;

    /// <summary>The entry of the schedule the next <see cref="Step"/> works on; null until the first call of a loop.</summary>
    public int? StepIndex => stepIndex;

    /// <summary>The entry set by <see cref="SetBeginIndex"/>; null when the first timestep locates the start.</summary>
    public int? BeginIndex => beginIndex;

    /// <summary>(T) float32 alpha_bar_t of the training schedule.</summary>
    public Tensor AlphasCumprod => torch.tensor(alphasCumprod);

    /// <summary>True when the next <see cref="Step"/> is the first stage of a solver step (always, for the one-stage solvers).</summary>
    public bool StateInFirstOrder => firstStageSample is null;

    /// <summary>
    /// Picks the timesteps of an <paramref name="numInferenceSteps"/>-step loop by <c>timestep_spacing</c> and their
    /// sigmas (each scheduler's remarks say how), and resets the step index, begin index and the state kept between steps.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public void SetTimesteps(int numInferenceSteps) => BuildSchedule(numInferenceSteps, numInferenceSteps);

    /// <summary>Builds the <paramref name="n"/>-step schedule (<paramref name="numInferenceSteps"/> null for the T-step one diffusers' constructors set) and installs it with <see cref="SetSchedule"/>.</summary>
    private protected abstract void BuildSchedule(int n, int? numInferenceSteps);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">Not an index of <see cref="Timesteps"/>.</exception>
    public void SetBeginIndex(int beginIndex)
    {
        if (beginIndex < 0 || beginIndex >= timesteps.Length)
            throw new ArgumentOutOfRangeException(nameof(beginIndex), beginIndex, $"beginIndex must be in 0..{timesteps.Length - 1} (an index of Timesteps); got {beginIndex}");
        this.beginIndex = beginIndex;
    }

    /// <summary>The model's input at <paramref name="timestep"/>: <paramref name="sample"/> / sqrt(sigma^2 + 1).</summary>
    /// <param name="sample">(B, C, H, W) x_sigma.</param>
    /// <param name="timestep">The current entry of <see cref="Timesteps"/>.</param>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called.</exception>
    /// <exception cref="ArgumentException">The first timestep of a loop is not in the schedule.</exception>
    public Tensor ScaleModelInput(Tensor sample, double timestep)
    {
        ArgumentNullException.ThrowIfNull(sample);
        RequireTimesteps();
        stepIndex ??= InitialStepIndex(timestep);
        return sample / InputScale(ModelInputSigma(stepIndex.Value));
    }

    /// <inheritdoc/>
    public abstract SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null);

    /// <summary>The forward process in sigma space: x_0 + sigma_t * noise (image-to-image, inpainting).</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) entries of <see cref="Timesteps"/> (any numeric dtype). After <see cref="SetBeginIndex"/> they are
    /// not looked up: the begin index (or the current step index, mid-loop) gives the sigma, as in diffusers.</param>
    /// <exception cref="ArgumentException">Shapes differ, or a timestep is not in the schedule.</exception>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        NoiseSchedule.RequireSameShape(originalSamples, noise, nameof(originalSamples), nameof(noise));
        ArgumentNullException.ThrowIfNull(timesteps);
        using var scope = torch.NewDisposeScope();
        var ts = timesteps.flatten().to(ScalarType.Float64).cpu().data<double>().ToArray();
        long batch = originalSamples.dim() == 0 ? 0 : originalSamples.shape[0];
        if (ts.Length != 1 && ts.Length != batch)
            throw new ArgumentException($"timesteps must have one entry per sample (B = {batch}) or one for all; got {Shapes.Format(timesteps)}", nameof(timesteps));
        var levels = ts.Select(t => sigmas[beginIndex is null ? IndexForTimestep(t) : stepIndex ?? beginIndex.Value]).ToArray();
        var view = new long[Math.Max(originalSamples.dim(), 1)];
        Array.Fill(view, 1L);
        view[0] = levels.Length;
        var sigma = torch.tensor(levels).to(originalSamples.dtype, originalSamples.device).reshape(view); // (B, 1, ..., 1)
        return (originalSamples + noise * sigma).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// diffusers' <c>index_for_timestep</c>: the entry of the schedule equal to <paramref name="timestep"/> (in
    /// float32); where it occurs twice (the interleaved schedules), the second, so that a loop started mid-schedule
    /// does not skip a sigma.
    /// </summary>
    /// <remarks>
    /// One deliberate difference: where no entry is equal, the nearest one within a relative 1e-6 (a few float32
    /// ulps; of a duplicate pair the second) is taken, where diffusers raises. Fractional timesteps (Karras, KDPM2 midpoints) computed by another
    /// implementation, or read back from text, can differ from these in the last bits.
    /// </remarks>
    /// <exception cref="ArgumentException">No entry of the schedule is within that tolerance.</exception>
    public int IndexForTimestep(double timestep)
    {
        float t = (float)timestep;
        int first = -1, nearest = -1;
        for (int i = 0; i < timesteps.Length; i++)
        {
            if (nearest < 0 || Math.Abs(timesteps[i] - timestep) <= Math.Abs(timesteps[nearest] - timestep)) nearest = i; // ties: the later, as for duplicates
            if ((float)timesteps[i] != t) continue;
            if (first >= 0) return i;
            first = i;
        }
        if (first >= 0) return first;
        if (nearest >= 0 && Math.Abs(timesteps[nearest] - timestep) <= 1e-6 * Math.Max(1.0, Math.Abs(timestep))) return nearest;
        throw new ArgumentException($"timestep {timestep} is not in the schedule ({Preview(timesteps)}); pass an entry of Timesteps", nameof(timestep));
    }

    /// <summary>Installs a new schedule (float32 sigmas, float32-valued timesteps); resets the step and begin index and the two-stage state.</summary>
    private protected void SetSchedule(float[] newSigmas, IReadOnlyList<double> newTimesteps, int? numInferenceSteps)
    {
        firstStageSample = Release(firstStageSample);
        sigmas = newSigmas;
        sigmasView = newSigmas.Select(s => (double)s).ToArray();
        timesteps = newTimesteps.ToArray();
        NumInferenceSteps = numInferenceSteps;
        stepIndex = null;
        beginIndex = null;
    }

    /// <summary>
    /// Checks a <see cref="Step"/> call and returns the step index it works on (locating it from the timestep on the
    /// first call of a loop). Call <see cref="EndStep"/> when the step is done.
    /// </summary>
    private protected int BeginStep(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise, Generator? generator)
    {
        RequireTimesteps();
        NoiseSchedule.RequireSameShape(sample, modelOutput, nameof(sample), nameof(modelOutput));
        if (noise is not null && generator is not null)
            throw new ArgumentException("pass either noise or generator, not both", nameof(noise));
        if (noise is not null) NoiseSchedule.RequireSameShape(modelOutput, noise, nameof(modelOutput), nameof(noise));
        stepIndex ??= InitialStepIndex(timestep);
        if (stepIndex.Value >= timesteps.Length)
            throw new InvalidOperationException($"{GetType().Name}: the schedule's {timesteps.Length} steps are done; call SetTimesteps to start a new loop");
        return stepIndex.Value;
    }

    /// <summary>Moves to the next entry of the schedule (diffusers' <c>_step_index += 1</c>).</summary>
    private protected void EndStep() => stepIndex++;

    /// <summary>The sigma <see cref="ScaleModelInput"/> divides by at a step index (the two-stage solvers use their midpoint level in the second stage).</summary>
    private protected virtual float ModelInputSigma(int index) => sigmas[index];

    /// <summary>sqrt(sigma^2 + 1) in float32: the standard deviation of x_sigma for unit-variance data, which scales the model's input.</summary>
    private protected static float InputScale(float sigma) => MathF.Sqrt(sigma * sigma + 1f);

    /// <summary>
    /// x_0 from the model output at noise level <paramref name="sigma"/> (Karras et al. 2022, table 1, the
    /// preconditioning D(x) = c_skip x + c_out F(x)): epsilon gives x - sigma * eps; v gives
    /// -sigma / sqrt(sigma^2 + 1) * v + x / (sigma^2 + 1); sample is x_0 itself.
    /// </summary>
    private protected static Tensor PredictOriginalSample(PredictionType prediction, Tensor modelOutput, Tensor sample, float sigma) =>
        prediction switch
        {
            PredictionType.Epsilon => sample - sigma * modelOutput,
            PredictionType.VPrediction => modelOutput * (-sigma / InputScale(sigma)) + sample / (sigma * sigma + 1f),
            _ => modelOutput,
        };

    /// <summary>The noise a stochastic step adds: the given one, or a standard normal draw of the model output's shape.</summary>
    private protected static Tensor NoiseOrDraw(Tensor? noise, Tensor modelOutput, Generator? generator) =>
        noise ?? torch.randn(modelOutput.shape, dtype: modelOutput.dtype, device: modelOutput.device, generator: generator);

    /// <summary>alpha_bar (T, float32) of a config's beta schedule; zero terminal SNR puts alpha_bar_T at 2^-24 so sigma_T stays finite, as diffusers does.</summary>
    /// <exception cref="ArgumentException">An option value is not defined, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    private protected static float[] TrainingAlphasCumprod(SchedulerConfig config, bool rescaleBetasZeroSnr = false, bool allowExp = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.NumTrainTimesteps, "num_train_timesteps");
        SchedulerOptions.RequireDefined(config.PredictionType);
        var betas = NoiseSchedule.Betas(config.BetaSchedule, config.NumTrainTimesteps, config.BetaStart, config.BetaEnd,
            config.TrainedBetas, rescaleBetasZeroSnr, allowExp);
        var alphasCumprod = NoiseSchedule.AlphasCumprod(betas);
        if (rescaleBetasZeroSnr) alphasCumprod[^1] = 5.9604645e-08f; // 2^-24, float16's smallest subnormal
        return alphasCumprod;
    }

    /// <summary>Rejects <c>prediction_type: sample</c>, which diffusers' ancestral and KDPM2 schedulers do not implement.</summary>
    private protected static void RejectSamplePrediction(SchedulerConfig config)
    {
        if (config.PredictionType == PredictionType.Sample)
            throw new ArgumentException($"{config.ClassName}: prediction_type 'sample' is not supported (as in diffusers); expected epsilon or v_prediction", "prediction_type");
    }

    /// <summary>cat(x[:1], x[1:].repeat_interleave(2), x[-1:]): each level after the first twice (the two stages of a step), the last once more.</summary>
    private protected static float[] Interleave(IReadOnlyList<float> levels)
    {
        var result = new List<float>(2 * levels.Count) { levels[0] };
        for (int i = 1; i < levels.Count; i++) { result.Add(levels[i]); result.Add(levels[i]); }
        result.Add(levels[^1]);
        return result.ToArray();
    }

    /// <summary>
    /// The inference levels of an <paramref name="n"/>-step loop: timesteps by timestep_spacing, their sigmas
    /// interpolated from the training ones (or respaced by <see cref="sigmaSpacing"/>, the timesteps recomputed), as
    /// float32 with a final 0 appended (N + 1 sigmas, N timesteps).
    /// </summary>
    /// <param name="kdpm2Timesteps">diffusers' KDPM2 convention: respaced timesteps stay float64 (Karras ones rounded); otherwise all are float32.</param>
    private protected (float[] Sigmas, double[] Timesteps) InferenceLevels(int n, bool kdpm2Timesteps = false)
    {
        var steps = SigmaSchedule.InferenceTimesteps(spacing, alphasCumprod.Length, n, stepsOffset);
        var (levels, timesteps) = SigmaSchedule.ForTimesteps(trainingSigmas, steps, sigmaSpacing);
        if (kdpm2Timesteps && sigmaSpacing == SigmaSpacing.Beta)
        {
            // diffusers' KDPM2 schedulers never convert to beta sigmas: they keep the interpolated ones and only
            // recompute (float64) timesteps from them. Reproduced as is.
            levels = SigmaSchedule.AtTimesteps(trainingSigmas, steps.Select(t => (double)t).ToArray());
            var logSigmas = SigmaSchedule.Log(trainingSigmas);
            timesteps = levels.Select(s => SigmaSchedule.SigmaToT(s, logSigmas)).ToArray();
        }
        timesteps = (kdpm2Timesteps ? sigmaSpacing : SigmaSpacing.Interpolated) switch
        {
            SigmaSpacing.Interpolated => timesteps.Select(t => (double)(float)t).ToArray(),
            SigmaSpacing.Karras => timesteps.Select(t => Math.Round(t, MidpointRounding.ToEven)).ToArray(),
            _ => timesteps,
        };
        return (levels.Select(s => (float)s).Append(0f).ToArray(), timesteps);
    }

    /// <summary>The fractional timesteps of midpoint levels, by <see cref="SigmaSchedule.SigmaToTFloat32"/> (the KDPM2 schedulers compute them on float32 tensors).</summary>
    private protected double[] MidpointTimesteps(float[] levels)
    {
        var logSigmas = SigmaSchedule.Log(trainingSigmas);
        return levels.Select(s => (double)SigmaSchedule.SigmaToTFloat32(s, logSigmas)).ToArray();
    }

    /// <summary>
    /// exp(lerp(log a, log b, 1/2)) elementwise, the geometric midpoint sqrt(a b) of two noise levels as the KDPM2
    /// schedulers compute it: with torch's float32 log, lerp and exp (a zero level gives 0 or NaN, as there).
    /// </summary>
    private protected static float[] LogMidpoints(float[] a, float[] b)
    {
        using var scope = torch.NewDisposeScope();
        return torch.tensor(a).log().lerp(torch.tensor(b).log(), 0.5).exp().data<float>().ToArray();
    }

    /// <summary>Releases a tensor kept between steps and returns null, for <c>stored = Release(stored)</c>.</summary>
    private protected static Tensor? Release(Tensor? kept)
    {
        kept?.Dispose();
        return null;
    }

    /// <summary>A handle on <paramref name="tensor"/> that outlives the caller's dispose scope, for state kept between steps.</summary>
    private protected static Tensor Keep(Tensor tensor) => tensor.alias().DetachFromDisposeScope();

    int InitialStepIndex(double timestep) => beginIndex ?? IndexForTimestep(timestep);

    void RequireTimesteps()
    {
        if (NumInferenceSteps is null)
            throw new InvalidOperationException($"{GetType().Name}: call SetTimesteps(numInferenceSteps) before ScaleModelInput or Step");
    }

    static string Preview(IReadOnlyList<double> schedule) =>
        schedule.Count <= 12 ? string.Join(", ", schedule) : string.Join(", ", schedule.Take(6)) + ", ..., " + string.Join(", ", schedule.Skip(schedule.Count - 3));
}
