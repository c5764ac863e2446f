using SharpVision.Nn;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The pieces DDPM, DDIM and DDIM inversion share: the beta schedule, alpha-bar (float32, as diffusers computes
/// it), inference timesteps, dynamic thresholding and the forward process q(x_t | x_0).
/// Follows diffusers 0.40 scheduling_ddim.py / scheduling_ddpm.py (betas_for_alpha_bar, rescale_zero_terminal_snr,
/// set_timesteps, _threshold_sample, add_noise, get_velocity).
/// </summary>
internal static class NoiseSchedule
{
    /// <summary>
    /// Betas (T) in float32. diffusers builds linear and scaled_linear with float32 <c>torch.linspace</c>, the cosine
    /// and exp schedules in float64 Python floats cast to float32 at the end, and <c>trained_betas</c> cast to float32.
    /// </summary>
    /// <param name="allowExp">Whether the scheduler accepts <c>exp</c> (in diffusers only HeunDiscreteScheduler does).</param>
    public static float[] Betas(BetaSchedule schedule, int numTrainTimesteps, double betaStart, double betaEnd,
        IReadOnlyList<double>? trainedBetas, bool rescaleZeroTerminalSnr, bool allowExp = false)
    {
        using var scope = torch.NewDisposeScope();
        Tensor betas;
        if (trainedBetas is not null)
        {
            if (trainedBetas.Count != numTrainTimesteps)
                throw new ArgumentException($"trained_betas must have num_train_timesteps = {numTrainTimesteps} values; got {trainedBetas.Count}", "trained_betas");
            betas = torch.tensor(trainedBetas.Select(b => (float)b).ToArray());
        }
        else
        {
            SchedulerOptions.RequireDefined(schedule);
            if (schedule == BetaSchedule.Exp && !allowExp)
                throw new ArgumentException("beta_schedule 'exp' is not supported by this scheduler (diffusers offers it in HeunDiscreteScheduler only); expected one of: linear, scaled_linear, squaredcos_cap_v2", "beta_schedule");
            betas = schedule switch
            {
                BetaSchedule.Linear => torch.linspace(betaStart, betaEnd, numTrainTimesteps, dtype: ScalarType.Float32),
                // Evenly spaced in sqrt(beta), the schedule latent diffusion was trained with.
                BetaSchedule.ScaledLinear => torch.linspace(Math.Sqrt(betaStart), Math.Sqrt(betaEnd), numTrainTimesteps, dtype: ScalarType.Float32).square(),
                BetaSchedule.Exp => torch.tensor(AlphaBarBetas(numTrainTimesteps, t => Math.Exp(t * -12.0))),
                _ => torch.tensor(CosineBetas(numTrainTimesteps)),
            };
        }
        if (rescaleZeroTerminalSnr) betas = RescaleZeroTerminalSnr(betas);
        return betas.data<float>().ToArray();
    }

    /// <summary>
    /// Nichol and Dhariwal 2021 eq. 17: alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) * pi/2) with s = 0.008, and
    /// beta_t = min(1 - alpha_bar(t+1)/alpha_bar(t), 0.999). Computed in double, stored as float32 like diffusers.
    /// </summary>
    static float[] CosineBetas(int numTrainTimesteps) =>
        AlphaBarBetas(numTrainTimesteps, t => { double c = Math.Cos((t + 0.008) / 1.008 * Math.PI / 2); return c * c; });

    /// <summary>diffusers' <c>betas_for_alpha_bar</c>: beta_i = min(1 - alpha_bar((i+1)/T) / alpha_bar(i/T), 0.999) in double, stored as float32.</summary>
    static float[] AlphaBarBetas(int numTrainTimesteps, Func<double, double> alphaBar)
    {
        var betas = new float[numTrainTimesteps];
        for (int i = 0; i < numTrainTimesteps; i++)
        {
            double t1 = (double)i / numTrainTimesteps, t2 = (double)(i + 1) / numTrainTimesteps;
            betas[i] = (float)Math.Min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
        }
        return betas;
    }

    /// <summary>
    /// Lin et al. 2023 (https://arxiv.org/abs/2305.08891), algorithm 1: shift and scale sqrt(alpha_bar) so the last
    /// timestep has zero signal (alpha_bar_T = 0) while the first keeps its value. float32 throughout, as in diffusers.
    /// </summary>
    static Tensor RescaleZeroTerminalSnr(Tensor betas)
    {
        var alphaBarSqrt = Sqrt((1 - betas).cumprod(0));
        var first = alphaBarSqrt[0].clone();
        var last = alphaBarSqrt[-1].clone();
        alphaBarSqrt = (alphaBarSqrt - last) * (first / (first - last));
        var alphaBar = alphaBarSqrt.square();
        var alphas = torch.cat([alphaBar[..1], alphaBar[1..] / alphaBar[..^1]]);
        return 1 - alphas;
    }

    /// <summary>
    /// Correctly rounded elementwise square root (float32 and float64; other dtypes use torch's). TorchSharp-cpu
    /// 0.107's libtorch <c>sqrt</c> is one ulp off for some float32 inputs (e.g. 0.99995869f) where PyTorch's is exact,
    /// and alpha_bar near 1 amplifies that through 1 - alpha_bar. Meant for schedule-sized vectors.
    /// </summary>
    internal static Tensor Sqrt(Tensor x)
    {
        switch (x.dtype)
        {
            case ScalarType.Float32:
            {
                var values = x.cpu().contiguous().data<float>().ToArray();
                for (int i = 0; i < values.Length; i++) values[i] = MathF.Sqrt(values[i]);
                return torch.tensor(values).reshape(x.shape).to(x.device);
            }
            case ScalarType.Float64:
            {
                var values = x.cpu().contiguous().data<double>().ToArray();
                for (int i = 0; i < values.Length; i++) values[i] = Math.Sqrt(values[i]);
                return torch.tensor(values).reshape(x.shape).to(x.device);
            }
            default:
                return x.sqrt();
        }
    }

    /// <summary>
    /// The training betas (T, float32) of a scheduler's config, after the checks every alpha_bar scheduler's constructor
    /// makes: num_train_timesteps positive, prediction_type and timestep_spacing defined.
    /// </summary>
    /// <exception cref="ArgumentException">An option value is not defined, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public static float[] ConfigBetas(SchedulerConfig config, TimestepSpacing timestepSpacing, bool rescaleZeroTerminalSnr)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.NumTrainTimesteps, "num_train_timesteps");
        SchedulerOptions.RequireDefined(config.PredictionType);
        SchedulerOptions.RequireDefined(timestepSpacing);
        return Betas(config.BetaSchedule, config.NumTrainTimesteps, config.BetaStart, config.BetaEnd, config.TrainedBetas, rescaleZeroTerminalSnr);
    }

    /// <summary>alpha_bar_t = prod_{s &lt;= t} (1 - beta_s), cumulated by torch in float32 storage like diffusers.</summary>
    public static float[] AlphasCumprod(float[] betas)
    {
        using var scope = torch.NewDisposeScope();
        return (1 - torch.tensor(betas)).cumprod(0).data<float>().ToArray();
    }

    /// <summary>Checks 0 &lt; N &lt;= T, the bounds every set_timesteps shares.</summary>
    public static void RequireStepCount(int numInferenceSteps, int numTrainTimesteps)
    {
        if (numInferenceSteps <= 0 || numInferenceSteps > numTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"num_inference_steps must be in 1..num_train_timesteps ({numTrainTimesteps}); got {numInferenceSteps}");
    }

    /// <summary>
    /// The N inference timesteps, descending (sampling order), as diffusers' DDIM/DDPM set_timesteps makes them,
    /// numpy's arithmetic included (linspace and arange in float64, round half to even).
    /// </summary>
    public static long[] DescendingTimesteps(TimestepSpacing spacing, int numTrainTimesteps, int numInferenceSteps, int stepsOffset)
    {
        RequireStepCount(numInferenceSteps, numTrainTimesteps);
        SchedulerOptions.RequireDefined(spacing);
        int n = numInferenceSteps, T = numTrainTimesteps;
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
            {
                // np.linspace(0, T - 1, n): i * step with the last value set to the end point exactly.
                double step = n > 1 ? (double)(T - 1) / (n - 1) : 0;
                var ts = new long[n];
                for (int i = 0; i < n; i++)
                    ts[n - 1 - i] = (long)Math.Round(i == n - 1 && n > 1 ? T - 1 : i * step, MidpointRounding.ToEven);
                return ts;
            }
            case TimestepSpacing.Leading:
            {
                int ratio = T / n;
                long highest = (long)(n - 1) * ratio + stepsOffset;
                if (highest >= T || stepsOffset < 0)
                    throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                        $"leading spacing with steps_offset {stepsOffset} puts timesteps outside 0..{T - 1} (highest {highest}); use fewer steps or a smaller offset");
                var ts = new long[n];
                for (int i = 0; i < n; i++) ts[n - 1 - i] = (long)i * ratio + stepsOffset;
                return ts;
            }
            default:
            {
                // np.round(np.arange(T, 0, -T / n)) - 1, numpy filling a float arange as start + i * (second - start).
                // numpy sizes that arange as ceil(T / (T / n)), which rounding makes n + 1 for some (T, n) (e.g. 1000, 61),
                // giving diffusers an extra timestep -1; the schedule here always has n entries.
                double ratio = (double)T / n;
                double delta = (T + -ratio) - T;
                var ts = new long[n];
                for (int i = 0; i < n; i++) ts[i] = (long)Math.Round(T + i * delta, MidpointRounding.ToEven) - 1;
                return ts;
            }
        }
    }

    /// <summary>
    /// The entry after <paramref name="timestep"/> in <paramref name="schedule"/>, or -1 past the end: the timestep a
    /// step of the schedule lands on.
    /// </summary>
    /// <exception cref="ArgumentException">The timestep is not in the schedule.</exception>
    public static long NextInSchedule(IReadOnlyList<long> schedule, long timestep, string paramName)
    {
        for (int i = 0; i < schedule.Count; i++)
            if (schedule[i] == timestep) return i + 1 < schedule.Count ? schedule[i + 1] : -1;
        throw new ArgumentException(
            $"{paramName} {timestep} is not in the schedule ({Preview(schedule)}); pass the neighbouring timestep explicitly", paramName);
    }

    static string Preview(IReadOnlyList<long> schedule) =>
        schedule.Count <= 12 ? string.Join(", ", schedule) : string.Join(", ", schedule.Take(6)) + ", ..., " + string.Join(", ", schedule.Skip(schedule.Count - 3));

    /// <summary>A contract timestep (<see cref="IDiffusionScheduler"/> passes doubles) as the integer one a discrete scheduler keys on.</summary>
    /// <exception cref="ArgumentException">The value is not a whole number.</exception>
    public static long IntegerTimestep(double timestep, string paramName) =>
        timestep == Math.Floor(timestep) && !double.IsInfinity(timestep)
            ? (long)timestep
            : throw new ArgumentException($"{paramName} must be a whole training timestep; got {timestep}", paramName);

    /// <summary>The integer schedule as the contract's doubles.</summary>
    public static IReadOnlyList<double> AsDoubles(IReadOnlyList<long> timesteps) => timesteps.Select(t => (double)t).ToArray();

    /// <summary>Throws unless 0 &lt;= t &lt; T.</summary>
    public static void RequireTrainTimestep(long timestep, int numTrainTimesteps, string paramName)
    {
        if (timestep < 0 || timestep >= numTrainTimesteps)
            throw new ArgumentOutOfRangeException(paramName, timestep, $"{paramName} must be in 0..{numTrainTimesteps - 1}; got {timestep}");
    }

    /// <summary>
    /// Dynamic thresholding (Saharia et al. 2022, Imagen, section 2.3): per sample, s = the given quantile of |x_0|,
    /// clamped to [1, max]; x_0 is clipped to [-s, s] and divided by s. The quantile is torch.quantile's linear
    /// interpolation, computed with the same operations.
    /// </summary>
    /// <param name="sample">(B, C, ...) predicted x_0.</param>
    public static Tensor Threshold(Tensor sample, double ratio, double maxValue)
    {
        using var scope = torch.NewDisposeScope();
        var dtype = sample.dtype;
        var x = dtype is ScalarType.Float32 or ScalarType.Float64 ? sample : sample.to(ScalarType.Float32);
        var shape = x.shape;
        var flat = x.reshape(shape[0], -1); // (B, C * ...)
        long n = flat.shape[1];
        var sorted = flat.abs().sort(dim: 1).Values;
        // torch.quantile takes the rank q * (n - 1) in the input's dtype.
        var rank = torch.tensor(ratio, dtype: flat.dtype) * (n - 1);
        var below = rank.to(ScalarType.Int64);
        var above = rank.ceil().to(ScalarType.Int64);
        var weight = (rank - below).expand(shape[0], 1);
        var s = sorted.gather(1, below.expand(shape[0], 1)).lerp(sorted.gather(1, above.expand(shape[0], 1)), weight); // (B, 1)
        s = s.clamp(1, maxValue);
        var result = (flat.clamp(-s, s) / s).reshape(shape).to(dtype);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>sqrt(alpha_bar_t) and sqrt(1 - alpha_bar_t) for each timestep, shaped (B, 1, ...) to broadcast over samples.</summary>
    static (Tensor SqrtAlphaBar, Tensor SqrtOneMinusAlphaBar) Coefficients(float[] alphasCumprod, Tensor like, Tensor timesteps, string paramName)
    {
        ArgumentNullException.ThrowIfNull(timesteps, paramName);
        if (timesteps.is_floating_point() || timesteps.dtype == ScalarType.Bool)
            throw new ArgumentException($"{paramName} must be an integer tensor; got {timesteps.dtype}", paramName);
        var t = timesteps.flatten().to(ScalarType.Int64, like.device);
        if (t.numel() > 0)
        {
            long lo = t.min().item<long>(), hi = t.max().item<long>();
            if (lo < 0 || hi >= alphasCumprod.Length)
                throw new ArgumentOutOfRangeException(paramName, $"{paramName} must be in 0..{alphasCumprod.Length - 1}; got values from {lo} to {hi}");
        }
        if (t.numel() != 1 && (like.dim() == 0 || t.numel() != like.shape[0]))
            throw new ArgumentException($"{paramName} must have one entry per sample (B = {(like.dim() == 0 ? 0 : like.shape[0])}) or one for all; got {Shapes.Format(timesteps)}", paramName);
        // diffusers casts alpha_bar to the samples' dtype before taking roots.
        var alphaBar = torch.tensor(alphasCumprod).to(like.dtype, like.device).index_select(0, t);
        var view = new long[Math.Max(like.dim(), 1)];
        Array.Fill(view, 1L);
        view[0] = t.numel();
        return (Sqrt(alphaBar).reshape(view), Sqrt(1 - alphaBar).reshape(view)); // (B, 1, ..., 1)
    }

    /// <summary>q(x_t | x_0) (Ho et al. 2020, eq. 4): x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise.</summary>
    public static Tensor AddNoise(float[] alphasCumprod, Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        RequireSameShape(originalSamples, noise, nameof(originalSamples), nameof(noise));
        using var scope = torch.NewDisposeScope();
        var (a, b) = Coefficients(alphasCumprod, originalSamples, timesteps, nameof(timesteps));
        return (a * originalSamples + b * noise).MoveToOuterDisposeScope();
    }

    /// <summary>v = sqrt(alpha_bar_t) noise - sqrt(1 - alpha_bar_t) x_0 (Salimans and Ho 2022, section 4).</summary>
    public static Tensor GetVelocity(float[] alphasCumprod, Tensor sample, Tensor noise, Tensor timesteps)
    {
        RequireSameShape(sample, noise, nameof(sample), nameof(noise));
        using var scope = torch.NewDisposeScope();
        var (a, b) = Coefficients(alphasCumprod, sample, timesteps, nameof(timesteps));
        return (a * noise - b * sample).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Moves a step's result out of the step's dispose scope, unless it is one of the caller's own tensors (for
    /// example x_0 = model output with prediction_type sample and no clipping), whose lifetime stays the caller's.
    /// </summary>
    public static Tensor Escape(Tensor result, params Tensor?[] callerTensors) =>
        callerTensors.Any(t => ReferenceEquals(t, result)) ? result : result.MoveToOuterDisposeScope();

    public static void RequireSameShape(Tensor reference, Tensor other, string referenceName, string otherName)
    {
        ArgumentNullException.ThrowIfNull(reference, referenceName);
        ArgumentNullException.ThrowIfNull(other, otherName);
        if (!reference.shape.SequenceEqual(other.shape))
            throw new ArgumentException($"{otherName} must have the shape of {referenceName} {Shapes.Format(reference)}; got {Shapes.Format(other)}", otherName);
    }
}
