using SharpVision.Nn;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// What DPM-Solver (multistep and singlestep), UniPC and DEIS share: the VP noise schedule in sigma form, the
/// inference schedule (spaced timesteps, Karras / exponential / Lu sigmas), the step index, the history of converted
/// model outputs, the conversion of the model output to x_0 or epsilon, the first-order (DDIM-equivalent) update and
/// add_noise. Follows diffusers 0.40 scheduling_dpmsolver_multistep.py and its siblings, in their precision: the
/// schedule in numpy float64 stored as float32 sigmas, each step's scalars in float32 as diffusers' 0-dim tensors.
/// </summary>
/// <remarks>
/// Symbols (Lu et al. 2022, https://arxiv.org/abs/2206.00927, section 2): sigma is the VE noise level
/// sqrt((1 - alpha_bar) / alpha_bar); alpha_t = 1 / sqrt(sigma^2 + 1) and sigma_t = sigma * alpha_t are the VP
/// signal and noise scales; lambda_t = log(alpha_t / sigma_t) is the half log-SNR, the variable the solvers
/// integrate in; h = lambda_t - lambda_s is a step's length in it.
/// The history tensors belong to the core (detached from dispose scopes); a dropped entry is disposed.
/// </remarks>
internal sealed class ExponentialSolverCore
{
    readonly ExponentialSolverConfig config;
    readonly string owner;
    readonly Tensor?[] history;
    long[] timesteps;
    float[]? sigmas;
    int? stepIndex;
    int? beginIndex;

    /// <summary>(T) float32 alpha_bar.</summary>
    public float[] AlphasCumprod { get; }
    /// <summary>(T) float32 training sigmas, increasing with t.</summary>
    public float[] TrainSigmas { get; }
    /// <summary>(T) float32 log of <see cref="TrainSigmas"/>.</summary>
    public float[] LogSigmas { get; }
    public int? NumInferenceSteps { get; private set; }
    /// <summary>How many steps have run since <see cref="SetSchedule"/>, capped at the solver order (diffusers' <c>lower_order_nums</c>).</summary>
    public int LowerOrderNums { get; private set; }

    /// <exception cref="ArgumentException">An option is undefined or not supported (the message names the key).</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or solver_order out of range.</exception>
    public ExponentialSolverCore(ExponentialSolverConfig config, string owner)
    {
        this.config = config;
        this.owner = owner;
        bool rescaleBetasZeroSnr = config.ZeroTerminalSnr;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.NumTrainTimesteps, "num_train_timesteps");
        if (config.SolverOrder is < 1 or > 3)
            throw new ArgumentOutOfRangeException("solver_order", config.SolverOrder, $"{owner}: solver_order must be 1, 2 or 3; got {config.SolverOrder}");
        SchedulerOptions.RequireDefined(config.PredictionType);
        SchedulerOptions.RequireDefined(config.TimeShiftType);
        RequireOff(config.UseBetaSigmas, "use_beta_sigmas", "the beta-distribution schedule is not implemented");
        RequireOff(config.UseFlowSigmas, "use_flow_sigmas", "flow-matching sigmas are not implemented");
        RequireOff(config.UseDynamicShifting, "use_dynamic_shifting", "dynamic flow shifting is not implemented");
        if ((config.UseKarrasSigmas ? 1 : 0) + (config.UseExponentialSigmas ? 1 : 0) + (config.UseBetaSigmas ? 1 : 0) > 1)
            throw new ArgumentException($"{owner}: use at most one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas", "use_karras_sigmas");

        var betas = NoiseSchedule.Betas(config.BetaSchedule, config.NumTrainTimesteps, config.BetaStart, config.BetaEnd,
            config.TrainedBetas ?? SolverSchedule.ReferenceLinspaceBetas(config), rescaleBetasZeroSnr);
        AlphasCumprod = NoiseSchedule.AlphasCumprod(betas);
        // Zero terminal SNR makes alpha_bar_T = 0 and sigma_T infinite; diffusers keeps it just above zero (2^-24).
        if (rescaleBetasZeroSnr) AlphasCumprod[^1] = MathF.Pow(2, -24);
        TrainSigmas = SigmaSchedule.FromAlphasCumprod(AlphasCumprod);
        LogSigmas = SigmaSchedule.Log(TrainSigmas);
        timesteps = Enumerable.Range(0, config.NumTrainTimesteps).Reverse().Select(t => (long)t).ToArray();
        history = new Tensor?[config.SolverOrder];
    }

    void RequireOff(bool value, string key, string why)
    {
        if (value) throw new ArgumentException($"{owner}: {key} = true is not supported ({why}); set it to false", key);
    }

    public IReadOnlyList<double> Timesteps => timesteps.Select(t => (double)t).ToArray();
    public IReadOnlyList<double>? Sigmas => sigmas?.Select(s => (double)s).ToArray();
    public int TimestepCount => timesteps.Length;

    /// <summary>The index of the step being taken (set by <see cref="BeginStep"/>).</summary>
    public int StepIndex => stepIndex ?? throw new InvalidOperationException($"{owner}: no step in progress");

    /// <summary>
    /// The number of training timesteps at the noisy end whose lambda is below <paramref name="lambdaMinClipped"/>
    /// (diffusers' <c>searchsorted(flip(lambda_t), lambda_min_clipped)</c>), which the schedule then skips; 0 for -inf.
    /// </summary>
    public int ClippedCount(double lambdaMinClipped)
    {
        if (double.IsNegativeInfinity(lambdaMinClipped)) return 0;
        float clip = (float)lambdaMinClipped;
        int count = 0;
        foreach (float a in AlphasCumprod)
        {
            float lambda = MathF.Log(MathF.Sqrt(a)) - MathF.Log(MathF.Sqrt(1f - a));
            if (lambda < clip) count++;
        }
        return count;
    }

    /// <summary>
    /// Noise levels (float64, before the final one is appended) and timesteps for <paramref name="spaced"/> timesteps.
    /// Converted schedules take N levels between the training sigma_min and sigma_max (or the given bounds) and map
    /// each back to a timestep by <see cref="SigmaSchedule.SigmaToT"/>, rounded when <paramref name="roundConverted"/>,
    /// else truncated as numpy's cast to int64 does (always truncated for the exponential schedule, as in diffusers).
    /// </summary>
    public (long[] Timesteps, double[] Sigmas) Schedule(long[] spaced, SolverSigmaSpacing spacing, bool roundConverted,
        double? sigmaMin = null, double? sigmaMax = null)
    {
        int n = spaced.Length;
        double min = sigmaMin ?? TrainSigmas[0], max = sigmaMax ?? TrainSigmas[^1];
        double[] levels;
        switch (spacing)
        {
            case SolverSigmaSpacing.Training:
                // np.interp at integer timesteps: the training sigma itself (clamped to the ends).
                return (spaced, spaced.Select(t => (double)TrainSigmas[Math.Clamp(t, 0, TrainSigmas.Length - 1)]).ToArray());
            case SolverSigmaSpacing.Karras:
                levels = SigmaSchedule.Karras(min, max, n);
                break;
            case SolverSigmaSpacing.Exponential:
                levels = SigmaSchedule.Exponential(min, max, n);
                roundConverted = false;
                break;
            default:
                // Uniform in log sigma between the training ends (rho = 1), then back to sigma.
                levels = SigmaSchedule.Linspace(0, 1, n)
                    .Select(r => Math.Exp((double)LogSigmas[^1] + r * ((double)LogSigmas[0] - LogSigmas[^1]))).ToArray();
                break;
        }
        var ts = levels.Select(s =>
        {
            double t = SigmaSchedule.SigmaToT(s, LogSigmas);
            return roundConverted ? (long)Math.Round(t, MidpointRounding.ToEven) : (long)t;
        }).ToArray();
        return (ts, levels);
    }

    /// <summary>Installs a new schedule: timesteps (N) and float32 sigmas (N + 1); clears the history and step state.</summary>
    public void SetSchedule(long[] newTimesteps, double[] newSigmas, double finalSigma)
    {
        timesteps = newTimesteps;
        sigmas = newSigmas.Append(finalSigma).Select(s => (float)s).ToArray();
        NumInferenceSteps = newTimesteps.Length;
        ClearHistory();
        LowerOrderNums = 0;
        stepIndex = null;
        beginIndex = null;
    }

    void ClearHistory()
    {
        for (int i = 0; i < history.Length; i++)
        {
            history[i]?.Dispose();
            history[i] = null;
        }
    }

    public void SetBeginIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index, "beginIndex");
        beginIndex = index;
    }

    /// <summary>
    /// diffusers' <c>index_for_timestep</c>: the position of <paramref name="timestep"/> in the schedule; the second
    /// one when it occurs twice (so an image-to-image start does not skip a sigma), the last entry when absent.
    /// </summary>
    public int IndexOf(double timestep)
    {
        int first = -1;
        for (int i = 0; i < timesteps.Length; i++)
        {
            if (timesteps[i] != timestep) continue;
            if (first >= 0) return i;
            first = i;
        }
        return first >= 0 ? first : timesteps.Length - 1;
    }

    /// <summary>Checks a step's inputs and sets the step index on the first step of a loop.</summary>
    /// <exception cref="InvalidOperationException">SetTimesteps has not been called, or the schedule is exhausted.</exception>
    public void BeginStep(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise, bool learnedVariance)
    {
        if (NumInferenceSteps is null)
            throw new InvalidOperationException($"{owner}: call SetTimesteps(numInferenceSteps) before Step");
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        if (learnedVariance)
        {
            if (modelOutput.dim() != sample.dim() || modelOutput.shape[0] != sample.shape[0])
                throw new ArgumentException($"modelOutput must be (B, 2C, H, W) with sample {Shapes.Format(sample)}; got {Shapes.Format(modelOutput)}", nameof(modelOutput));
        }
        else NoiseSchedule.RequireSameShape(sample, modelOutput, nameof(sample), nameof(modelOutput));
        if (noise is not null) NoiseSchedule.RequireSameShape(sample, noise, nameof(sample), nameof(noise));
        stepIndex ??= beginIndex ?? IndexOf(timestep);
        if (stepIndex >= timesteps.Length)
            throw new InvalidOperationException($"{owner}: the schedule's {timesteps.Length} steps are done; call SetTimesteps for a new loop");
    }

    /// <summary>Ends a step: advances the index and counts it toward the warm-up of the multistep order.</summary>
    public void EndStep()
    {
        stepIndex++;
        if (LowerOrderNums < config.SolverOrder) LowerOrderNums++;
    }

    /// <summary>The float32 noise level at schedule entry <paramref name="index"/> (N is the final one).</summary>
    public float Sigma(int index) => sigmas![index];

    /// <summary>alpha_t = 1 / sqrt(sigma^2 + 1) and sigma_t = sigma * alpha_t at schedule entry <paramref name="index"/>, in float32.</summary>
    public (float Alpha, float Sigma) AlphaSigma(int index)
    {
        float sigma = sigmas![index];
        float alpha = 1f / MathF.Sqrt(sigma * sigma + 1f);
        return (alpha, sigma * alpha);
    }

    /// <summary>lambda = log(alpha_t) - log(sigma_t) at schedule entry <paramref name="index"/> (+inf at sigma = 0).</summary>
    public float Lambda(int index)
    {
        var (alpha, sigma) = AlphaSigma(index);
        return MathF.Log(alpha) - MathF.Log(sigma);
    }

    /// <summary>
    /// The data prediction x_0 from the model output at the current step (DPM-Solver++, eq. 5 of Lu et al. 2022b):
    /// x_0 = (x_t - sigma_t eps) / alpha_t, the output itself, or alpha_t x_t - sigma_t v; thresholded when configured.
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model output (only the first 3 channels with a learned variance).</param>
    public Tensor DataPrediction(Tensor modelOutput, Tensor sample, bool learnedVariance = false)
    {
        var (alphaT, sigmaT) = AlphaSigma(StepIndex);
        Tensor x0 = config.PredictionType switch
        {
            PredictionType.Epsilon => (sample - sigmaT * (learnedVariance ? modelOutput[.., ..3] : modelOutput)) / alphaT,
            PredictionType.Sample => modelOutput,
            _ => alphaT * sample - sigmaT * modelOutput,
        };
        return config.Thresholding ? NoiseSchedule.Threshold(x0, config.DynamicThresholdingRatio, config.SampleMaxValue) : x0;
    }

    /// <summary>
    /// The noise prediction epsilon from the model output at the current step (DPM-Solver's eq. 3.7 integrand):
    /// the output itself, (x_t - alpha_t x_0) / sigma_t, or alpha_t v + sigma_t x_t. With <paramref name="threshold"/>
    /// and thresholding configured, epsilon is re-derived from the thresholded x_0 it implies.
    /// </summary>
    public Tensor NoisePrediction(Tensor modelOutput, Tensor sample, bool threshold, bool learnedVariance = false)
    {
        var (alphaT, sigmaT) = AlphaSigma(StepIndex);
        Tensor epsilon = config.PredictionType switch
        {
            PredictionType.Epsilon => learnedVariance ? modelOutput[.., ..3] : modelOutput,
            PredictionType.Sample => (sample - alphaT * modelOutput) / sigmaT,
            _ => alphaT * modelOutput + sigmaT * sample,
        };
        if (!threshold || !config.Thresholding) return epsilon;
        var x0 = NoiseSchedule.Threshold((sample - sigmaT * epsilon) / alphaT, config.DynamicThresholdingRatio, config.SampleMaxValue);
        return (sample - alphaT * x0) / sigmaT;
    }

    /// <summary>
    /// Shifts the history by one and stores <paramref name="converted"/> as the newest entry (a step-local tensor
    /// or the caller's own, which gets a new handle so the caller's disposal does not reach the history).
    /// </summary>
    public void Push(Tensor converted, params Tensor[] callerTensors)
    {
        history[0]?.Dispose();
        for (int i = 0; i < history.Length - 1; i++) history[i] = history[i + 1];
        history[^1] = Keep(converted, callerTensors);
    }

    /// <summary>A handle the core owns on <paramref name="tensor"/>, outside every dispose scope.</summary>
    public static Tensor Keep(Tensor tensor, params Tensor[] callerTensors) =>
        (callerTensors.Any(t => ReferenceEquals(t, tensor)) ? tensor.alias() : tensor).DetachFromDisposeScope();

    /// <summary>The history entry <paramref name="back"/> steps ago (0: this step's), or null before the warm-up fills it.</summary>
    public Tensor? Output(int back) => history[history.Length - 1 - back];

    /// <summary>
    /// The first-order step from s = the current entry to t = the next (DPM-Solver-1, equivalent to DDIM; Lu et al.
    /// 2022b eq. 8 for data prediction, 2022 eq. 3.7 for noise prediction; the SDE forms of Lu et al. 2022b, section 5):
    /// <c>x_t = (sigma_t/sigma_s) x_s - alpha_t (e^-h - 1) x_0</c> or <c>x_t = (alpha_t/alpha_s) x_s - sigma_t (e^h - 1) eps</c>.
    /// </summary>
    /// <param name="m">(B, C, H, W) x_0 when <paramref name="dataPrediction"/>, else epsilon.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise for <paramref name="sde"/>.</param>
    public Tensor FirstOrderUpdate(Tensor m, Tensor sample, bool dataPrediction, bool sde, Tensor? noise)
    {
        int s = StepIndex;
        var (alphaT, sigmaT) = AlphaSigma(s + 1);
        var (alphaS, sigmaS) = AlphaSigma(s);
        float h = Lambda(s + 1) - Lambda(s);
        return (dataPrediction, sde) switch
        {
            (true, false) => sigmaT / sigmaS * sample - alphaT * (MathF.Exp(-h) - 1f) * m,
            (false, false) => alphaT / alphaS * sample - sigmaT * (MathF.Exp(h) - 1f) * m,
            (true, true) => sigmaT / sigmaS * MathF.Exp(-h) * sample + alphaT * (1f - MathF.Exp(-2f * h)) * m
                            + sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)) * noise!,
            (false, true) => alphaT / alphaS * sample - 2f * (sigmaT * (MathF.Exp(h) - 1f)) * m
                             + sigmaT * MathF.Sqrt(MathF.Exp(2f * h) - 1f) * noise!,
        };
    }

    /// <summary>The noise of a stochastic step: the given one, or a standard normal draw of the sample's shape.</summary>
    public static Tensor NoiseFor(Tensor like, Tensor? noise, Generator? generator, ScalarType dtype) =>
        noise?.to(dtype) ?? torch.randn(like.shape, dtype: dtype, device: like.device, generator: generator);

    /// <summary>
    /// The forward process in sigma form, x = alpha_t x_0 + sigma_t noise at each timestep's schedule entry (the
    /// begin index when one is set), as diffusers' add_noise of these solvers.
    /// </summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) entries of the schedule.</param>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        NoiseSchedule.RequireSameShape(originalSamples, noise, nameof(originalSamples), nameof(noise));
        ArgumentNullException.ThrowIfNull(timesteps);
        if (sigmas is null) throw new InvalidOperationException($"{owner}: call SetTimesteps(numInferenceSteps) before AddNoise");
        using var scope = torch.NewDisposeScope();
        var ts = timesteps.flatten().to(ScalarType.Float64).cpu().data<double>().ToArray();
        var indices = ts.Select(t => beginIndex is null ? IndexOf(t) : stepIndex ?? beginIndex.Value).ToArray();
        var view = new long[Math.Max(originalSamples.dim(), 1)];
        Array.Fill(view, 1L);
        view[0] = indices.Length;
        var sigma = torch.tensor(indices.Select(i => sigmas[i]).ToArray()).to(originalSamples.dtype, originalSamples.device).reshape(view);
        var alphaT = 1 / NoiseSchedule.Sqrt(sigma * sigma + 1);
        var sigmaT = sigma * alphaT;
        return (alphaT * originalSamples + sigmaT * noise).MoveToOuterDisposeScope();
    }
}
