namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Pseudo numerical methods for diffusion models (Liu, Ren, Lin and Zhao 2022, https://arxiv.org/abs/2202.09778):
/// the DDIM transfer of eq. 9 driven by a fourth-order linear multistep (PLMS) estimate of the noise, warmed up either
/// by three Runge–Kutta (PRK) steps (F-PNDM, Algorithm 2) or, with <c>skip_prk_steps</c>, by crowsonkb's PLMS
/// warm-up (https://github.com/CompVis/latent-diffusion/pull/51) that Stable Diffusion uses.
/// Follows diffusers 0.40 <c>schedulers/scheduling_pndm.py</c> (PNDMScheduler).
/// </summary>
/// <remarks>
/// <para>The schedule repeats entries: the PRK warm-up visits each of its three steps' midpoint twice, the PLMS
/// warm-up visits its second timestep twice (the second visit redoes the first step with the averaged noise). Which
/// formula a <see cref="Step"/> applies is decided by the call counter, as in diffusers, not by the timestep passed:
/// call <see cref="Step"/> once per entry of <see cref="Timesteps"/>, in order.</para>
/// <para>The scheduler keeps the last four noise estimates (as its own handles on the caller's tensors) between
/// steps; <see cref="SetTimesteps"/> drops them.</para>
/// </remarks>
public sealed class PNDMScheduler : IDiffusionScheduler
{
    /// <summary>Order of the linear multistep method (diffusers' <c>pndm_order</c>).</summary>
    public const int PndmOrder = 4;

    readonly float[] alphasCumprod;
    long[] prkTimesteps = [], plmsTimesteps = [];
    double[] timesteps;

    // diffusers' running values: counter, ets, cur_model_output (null for its 0), cur_sample.
    readonly List<Tensor> ets = [];
    Tensor? curModelOutput, curSample;

    /// <summary>The configuration this scheduler was built from.</summary>
    public PNDMSchedulerConfig Config { get; }
    SchedulerConfig IDiffusionScheduler.Config => Config;

    /// <summary>One model evaluation per entry of <see cref="Timesteps"/>.</summary>
    public int Order => 1;

    /// <summary>Standard deviation of the initial noise: 1.</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>alpha_bar used past the last step: 1 with set_alpha_to_one, else alpha_bar_0 (float32, as diffusers).</summary>
    public float FinalAlphaCumprod { get; }

    /// <inheritdoc/>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>The steps taken since <see cref="SetTimesteps"/> (diffusers' <c>counter</c>): it picks the PRK or PLMS formula.</summary>
    public int Counter { get; private set; }

    /// <summary>The timesteps of the Runge–Kutta warm-up (empty with skip_prk_steps), in sampling order.</summary>
    public IReadOnlyList<long> PrkTimesteps => prkTimesteps;

    /// <summary>The timesteps of the linear multistep part, in sampling order.</summary>
    public IReadOnlyList<long> PlmsTimesteps => plmsTimesteps;

    /// <summary>PRK then PLMS timesteps (entries repeat, see the remarks); all T training timesteps, descending, before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<double> Timesteps => timesteps;

    /// <summary>(T) float32 alpha_bar_t = prod_{s &lt;= t} (1 - beta_s), as diffusers computes it.</summary>
    public Tensor AlphasCumprod => torch.tensor(alphasCumprod);

    /// <exception cref="ArgumentException">An option value is not defined or not supported by PNDM (prediction_type sample), or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public PNDMScheduler(PNDMSchedulerConfig? config = null)
    {
        Config = config ?? new PNDMSchedulerConfig();
        var betas = NoiseSchedule.ConfigBetas(Config, Config.TimestepSpacing, rescaleZeroTerminalSnr: false);
        if (Config.PredictionType is not (PredictionType.Epsilon or PredictionType.VPrediction))
            throw new ArgumentException(
                $"PNDMScheduler: prediction_type '{SchedulerOptions.ToConfigString(Config.PredictionType)}' is not supported; expected one of: epsilon, v_prediction",
                "prediction_type");
        alphasCumprod = NoiseSchedule.AlphasCumprod(betas);
        FinalAlphaCumprod = Config.SetAlphaToOne ? 1f : alphasCumprod[0];
        timesteps = Enumerable.Range(0, Config.NumTrainTimesteps).Reverse().Select(t => (double)t).ToArray();
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static PNDMScheduler FromConfigFile(string path) => new(PNDMSchedulerConfig.Load(path));

    /// <summary>
    /// Picks the N inference timesteps by <c>timestep_spacing</c>, lays out the warm-up around them and resets the
    /// counter and the noise history.
    /// </summary>
    /// <remarks>
    /// With skip_prk_steps the loop has N + 1 entries (the second timestep twice); without, 12 PRK entries (the last
    /// four timesteps and their midpoints) then N - 3 PLMS ones. <c>trailing</c> spacing always has N timesteps,
    /// where numpy's arange gives diffusers N + 1 for some (T, N) such as (1000, 61).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps; fewer than 4 with the PRK warm-up;
    /// or steps_offset pushes a <c>leading</c> timestep past T - 1.</exception>
    public void SetTimesteps(int numInferenceSteps)
    {
        if (!Config.SkipPrkSteps && numInferenceSteps < PndmOrder)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"PNDMScheduler's Runge–Kutta warm-up needs at least {PndmOrder} inference steps; got {numInferenceSteps} (or set skip_prk_steps)");
        // The N timesteps ascending, as diffusers builds its _timesteps.
        var ascending = NoiseSchedule.DescendingTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset);
        Array.Reverse(ascending);
        int n = ascending.Length;

        if (Config.SkipPrkSteps)
        {
            prkTimesteps = [];
            // t_{N-1}, t_{N-2}, t_{N-2}, t_{N-3}, ..., t_0: the repeated entry is the second half of the warm-up.
            plmsTimesteps = [.. ascending[..Math.Max(n - 1, 0)], .. ascending[Math.Max(n - 2, 0)..Math.Max(n - 1, 0)], ascending[^1]];
            Array.Reverse(plmsTimesteps);
        }
        else
        {
            // Each of the last four timesteps followed by its midpoint t + T // N // 2, the final midpoint dropped;
            // every entry doubled, the outer two dropped: three RK4 steps of four evaluations each.
            long half = Config.NumTrainTimesteps / numInferenceSteps / 2;
            var withMidpoints = ascending[^PndmOrder..].SelectMany(t => new[] { t, t + half }).SkipLast(1).ToArray();
            var doubled = withMidpoints.SelectMany(t => new[] { t, t }).ToArray();
            prkTimesteps = doubled[1..^1];
            Array.Reverse(prkTimesteps);
            plmsTimesteps = ascending[..(n - 3)];
            Array.Reverse(plmsTimesteps);
        }
        timesteps = [.. prkTimesteps.Select(t => (double)t), .. plmsTimesteps.Select(t => (double)t)];
        NumInferenceSteps = numInferenceSteps;
        ResetHistory();
    }

    /// <summary>
    /// diffusers' PNDM has no <c>set_begin_index</c>: its image-to-image loop starts part-way through the timesteps with
    /// the warm-up counter at 0, which is what happens here. Only the PLMS schedule can start part-way.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside the timesteps, or not 0 with the PRK warm-up (its formulas follow the counter through the fixed PRK timesteps).</exception>
    public void SetBeginIndex(int beginIndex)
    {
        if (beginIndex < 0 || beginIndex >= timesteps.Length)
            throw new ArgumentOutOfRangeException(nameof(beginIndex), beginIndex, $"beginIndex must be in 0..{timesteps.Length - 1}; got {beginIndex}");
        if (!Config.SkipPrkSteps && beginIndex != 0)
            throw new ArgumentOutOfRangeException(nameof(beginIndex), beginIndex, "PNDMScheduler with the Runge–Kutta warm-up (skip_prk_steps false) can only start at 0");
    }

    /// <summary>PNDM needs no input scaling; returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, double timestep) => sample;

    /// <summary>
    /// One entry of the loop: a Runge–Kutta stage while the counter is inside the PRK warm-up, else a linear multistep
    /// step. Deterministic: <paramref name="noise"/> and <paramref name="generator"/> are not used.
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction at <paramref name="timestep"/> (noise or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="Timesteps"/>, an integer training timestep.</param>
    /// <param name="sample">(B, C, H, W) the current sample.</param>
    /// <param name="noise">Unused.</param>
    /// <param name="generator">Unused.</param>
    /// <returns>The next sample; no predicted x_0 (PNDM does not form one).</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called, or PLMS is reached without the PRK history.</exception>
    /// <exception cref="ArgumentException">Shapes differ, or the timestep is not an integer.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timestep is outside 0..T-1.</exception>
    public SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        if (NumInferenceSteps is null)
            throw new InvalidOperationException("PNDMScheduler: call SetTimesteps(numInferenceSteps) before stepping");
        NoiseSchedule.RequireSameShape(sample, modelOutput, nameof(sample), nameof(modelOutput));
        long t = DiscreteTimestep.Require(timestep, Config.NumTrainTimesteps, nameof(timestep));

        using var scope = torch.NewDisposeScope();
        var prevSample = Counter < prkTimesteps.Length && !Config.SkipPrkSteps ? StepPrk(modelOutput, t, sample) : StepPlms(modelOutput, t, sample);
        Counter++;
        return new SchedulerOutput(prevSample.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// A stage of the pseudo Runge–Kutta method (the classical RK4 on the transfer of eq. 9; Algorithm 2's warm-up): stages 0..3 evaluate the noise at t, t - d/2,
    /// t - d/2 and t - d; each stage moves from the step's start x_t by eq. 9, and the fourth uses the weighted mean
    /// e' = (e_1 + 2 e_2 + 2 e_3 + e_4) / 6. The first stage's noise joins the multistep history.
    /// </summary>
    Tensor StepPrk(Tensor modelOutput, long timestep, Tensor sample)
    {
        long halfStep = Config.NumTrainTimesteps / NumInferenceSteps!.Value / 2;
        long prevTimestep = timestep - (Counter % 2 == 1 ? 0 : halfStep);
        long stepStart = prkTimesteps[Counter / 4 * 4];

        var eps = modelOutput;
        switch (Counter % 4)
        {
            case 0:
                Keep(ref curModelOutput, 1.0 / 6 * modelOutput);
                ets.Add(Own(modelOutput));
                Keep(ref curSample, sample);
                break;
            case 1:
            case 2:
                Keep(ref curModelOutput, curModelOutput! + 1.0 / 3 * modelOutput);
                break;
            default:
                eps = curModelOutput! + 1.0 / 6 * modelOutput;
                Keep(ref curModelOutput, null);
                break;
        }
        return PrevSample(curSample ?? sample, stepStart, prevTimestep, eps);
    }

    /// <summary>
    /// A pseudo linear multistep step (fourth-order Adams–Bashforth on the transfer of eq. 9): e' = (55 e_t - 59 e_{t-d} + 37 e_{t-2d} - 9 e_{t-3d}) / 24, with the
    /// lower-order Adams–Bashforth estimates while fewer are known. Without PRK the second call redoes the first step
    /// from its start with the mean of both noises (a Heun step).
    /// </summary>
    Tensor StepPlms(Tensor modelOutput, long timestep, Tensor sample)
    {
        if (!Config.SkipPrkSteps && ets.Count < 3)
            throw new InvalidOperationException(
                $"PNDMScheduler: PLMS steps need the {3 * PndmOrder} Runge–Kutta steps first (skip_prk_steps is false); step through every entry of Timesteps from the start");
        long stride = Config.NumTrainTimesteps / NumInferenceSteps!.Value;
        long prevTimestep = timestep - stride;
        if (Counter != 1)
        {
            while (ets.Count > 3) { ets[0].Dispose(); ets.RemoveAt(0); }
            ets.Add(Own(modelOutput));
        }
        else
        {
            // The repeated entry: step again from t + d to t.
            prevTimestep = timestep;
            timestep += stride;
        }

        Tensor eps;
        if (ets.Count == 1 && Counter == 0)
        {
            eps = modelOutput;
            Keep(ref curSample, sample);
        }
        else if (ets.Count == 1 && Counter == 1)
        {
            eps = (modelOutput + ets[^1]) / 2;
            sample = curSample!.alias();
            Keep(ref curSample, null);
        }
        else if (ets.Count == 2)
            eps = (3 * ets[^1] - ets[^2]) / 2;
        else if (ets.Count == 3)
            eps = (23 * ets[^1] - 16 * ets[^2] + 5 * ets[^3]) / 12;
        else
            eps = 1.0 / 24 * (55 * ets[^1] - 59 * ets[^2] + 37 * ets[^3] - 9 * ets[^4]);
        return PrevSample(sample, timestep, prevTimestep, eps);
    }

    /// <summary>
    /// The transfer x_t -> x_{t-d} of paper eq. 9, in float32 scalars as diffusers' 0-dim tensors:
    /// x_{t-d} = sqrt(a'/a) x_t - (a' - a) e / (a sqrt(1 - a') + sqrt(a (1 - a) a')), with a = alpha_bar_t and
    /// a' = alpha_bar_{t-d} (the final alpha past the end).
    /// </summary>
    Tensor PrevSample(Tensor sample, long timestep, long prevTimestep, Tensor modelOutput)
    {
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : FinalAlphaCumprod;
        float betaProdT = 1f - alphaProdT, betaProdTPrev = 1f - alphaProdTPrev;

        // v = sqrt(a) eps - sqrt(1 - a) x_0 gives eps = sqrt(a) v + sqrt(1 - a) x_t.
        if (Config.PredictionType == PredictionType.VPrediction)
            modelOutput = MathF.Sqrt(alphaProdT) * modelOutput + MathF.Sqrt(betaProdT) * sample;

        // (a' - a) / (sqrt(a) (sqrt(a') + sqrt(a))) + 1 simplifies to sqrt(a' / a).
        float sampleCoeff = MathF.Sqrt(alphaProdTPrev / alphaProdT);
        float modelOutputDenomCoeff = alphaProdT * MathF.Sqrt(betaProdTPrev) + MathF.Sqrt(alphaProdT * betaProdT * alphaProdTPrev);
        return sampleCoeff * sample - (alphaProdTPrev - alphaProdT) * modelOutput / modelOutputDenomCoeff;
    }

    /// <summary>The forward process q(x_t | x_0): sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise (training, img2img).</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) timesteps in 0..T-1 (integer, or floating with whole values).</param>
    /// <returns>(B, C, H, W) x_t, in the samples' dtype.</returns>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.AddNoise(alphasCumprod, originalSamples, noise, DiscreteTimestep.AsIndices(timesteps, nameof(timesteps)));

    /// <summary>A handle of the scheduler's own on <paramref name="tensor"/>, which no caller's dispose scope frees.</summary>
    static Tensor Own(Tensor tensor) => tensor.alias().DetachFromDisposeScope();

    static void Keep(ref Tensor? slot, Tensor? value)
    {
        var previous = slot;
        slot = value is null ? null : Own(value);
        previous?.Dispose();
    }

    void ResetHistory()
    {
        foreach (var e in ets) e.Dispose();
        ets.Clear();
        Keep(ref curModelOutput, null);
        Keep(ref curSample, null);
        Counter = 0;
    }
}
