namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The noise-level (sigma) arithmetic the sigma-space schedulers share (Euler, Heun, LMS, KDPM2, DPM-Solver, UniPC,
/// DEIS): sigma from alpha-bar, diffusers' sigma-to-timestep interpolation, and the Karras and exponential
/// schedules. Each step follows diffusers' numpy code in the same precision (float32 where it works in float32).
/// </summary>
public static class SigmaSchedule
{
    /// <summary>sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t), in float32 as diffusers computes it from its float32 alphas_cumprod.</summary>
    public static float[] FromAlphasCumprod(float[] alphasCumprod) =>
        alphasCumprod.Select(a => MathF.Sqrt((1f - a) / a)).ToArray();

    /// <summary>log sigma_t in float32 (diffusers' <c>np.log(sigmas)</c> of a float32 array).</summary>
    public static float[] Log(float[] sigmas) => sigmas.Select(s => MathF.Log(s)).ToArray();

    /// <summary>numpy's <c>linspace(start, stop, n)</c> in float64: start + i * step, the last value exactly stop.</summary>
    public static double[] Linspace(double start, double stop, int n)
    {
        var y = new double[n];
        if (n == 0) return y;
        if (n == 1) { y[0] = start; return y; }
        double step = (stop - start) / (n - 1);
        for (int i = 0; i < n; i++) y[i] = i * step + start;
        y[n - 1] = stop;
        return y;
    }

    /// <summary>numpy's <c>interp(x, xp, fp)</c>: piecewise-linear, clamped to the end values outside xp.</summary>
    /// <param name="x">Points to evaluate.</param>
    /// <param name="xp">Increasing sample points.</param>
    /// <param name="fp">Values at <paramref name="xp"/>.</param>
    public static double[] Interp(IReadOnlyList<double> x, IReadOnlyList<double> xp, IReadOnlyList<double> fp)
    {
        if (xp.Count != fp.Count || xp.Count == 0) throw new ArgumentException($"xp and fp must be non-empty and of one length; got {xp.Count} and {fp.Count}", nameof(fp));
        int last = xp.Count - 1;
        var result = new double[x.Count];
        for (int i = 0; i < x.Count; i++)
        {
            double v = x[i];
            if (double.IsNaN(v)) { result[i] = v; continue; }
            if (v <= xp[0]) { result[i] = fp[0]; continue; }
            if (v >= xp[last]) { result[i] = fp[last]; continue; }
            int lo = 0, hi = last; // xp[lo] <= v < xp[hi]
            while (hi - lo > 1)
            {
                int mid = (lo + hi) >> 1;
                if (xp[mid] <= v) lo = mid; else hi = mid;
            }
            if (v == xp[lo]) { result[i] = fp[lo]; continue; }
            double slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
            result[i] = slope * (v - xp[lo]) + fp[lo];
        }
        return result;
    }

    /// <summary>
    /// diffusers' <c>_sigma_to_t</c>: the fractional timestep whose log sigma interpolates linearly to
    /// log <paramref name="sigma"/> (clamped to the training range), with numpy's dtypes: the bracketing and the
    /// weight in float32 (the float32 log-sigma table sets them), the final blend in float64.
    /// </summary>
    /// <param name="sigma">A noise level.</param>
    /// <param name="logSigmas">The T training log sigmas (increasing with t), float32 as diffusers keeps them.</param>
    public static double SigmaToT(double sigma, IReadOnlyList<float> logSigmas)
    {
        var (low, w) = Bracket(sigma, logSigmas);
        return (double)(1f - w) * low + (double)w * (low + 1);
    }

    /// <summary>
    /// <see cref="SigmaToT"/> as diffusers' KDPM2 schedulers evaluate it on torch tensors: every step in float32.
    /// </summary>
    public static float SigmaToTFloat32(float sigma, IReadOnlyList<float> logSigmas)
    {
        var (low, w) = Bracket(sigma, logSigmas);
        return (1f - w) * low + w * (low + 1);
    }

    /// <summary>The training index just below log sigma (at most T - 2) and the float32 weight toward the next one.</summary>
    static (int Low, float W) Bracket(double sigma, IReadOnlyList<float> logSigmas)
    {
        if (logSigmas.Count < 2) throw new ArgumentException($"logSigmas needs at least 2 entries; got {logSigmas.Count}", nameof(logSigmas));
        // log sigma is taken in float64, then meets the float32 table in float32.
        float logSigma = (float)Math.Log(Math.Max(sigma, 1e-10));
        // low_idx: the last index whose log sigma is <= log_sigma (0 when none), at most T - 2.
        int last = 0;
        for (int i = 0; i < logSigmas.Count; i++) if (logSigma - logSigmas[i] >= 0f) last = i;
        int low = Math.Min(last, logSigmas.Count - 2);
        float lowLog = logSigmas[low], highLog = logSigmas[low + 1];
        float w = Math.Clamp((lowLog - logSigma) / (lowLog - highLog), 0f, 1f);
        return (low, w);
    }

    /// <summary>
    /// The N timesteps of a sigma-space scheduler's <c>set_timesteps</c> (Euler, Heun, LMS, KDPM2), descending, in
    /// float32 as diffusers keeps them: <c>linspace</c> unrounded (fractional), <c>leading</c> multiples of T // N
    /// plus steps_offset, <c>trailing</c> T - 1 downward in steps of T / N, rounded.
    /// </summary>
    /// <remarks>
    /// A leading timestep past T - 1 is kept (its sigma clamps to the last training sigma, as numpy's interp does).
    /// Trailing spacing always has N entries, where numpy's arange gives diffusers N + 1 for some (T, N) such as (1000, 61).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public static float[] InferenceTimesteps(TimestepSpacing spacing, int numTrainTimesteps, int numInferenceSteps, int stepsOffset)
    {
        NoiseSchedule.RequireStepCount(numInferenceSteps, numTrainTimesteps);
        SchedulerOptions.RequireDefined(spacing);
        int n = numInferenceSteps, T = numTrainTimesteps;
        var ts = new float[n];
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
            {
                var line = Linspace(0, T - 1, n); // computed in float64, stored as float32 (np.linspace(..., dtype=float32))
                for (int i = 0; i < n; i++) ts[i] = (float)line[n - 1 - i];
                return ts;
            }
            case TimestepSpacing.Leading:
            {
                int ratio = T / n;
                for (int i = 0; i < n; i++) ts[n - 1 - i] = (float)((long)i * ratio) + stepsOffset;
                return ts;
            }
            default:
            {
                var trailing = NoiseSchedule.DescendingTimesteps(TimestepSpacing.Trailing, T, n, 0);
                for (int i = 0; i < n; i++) ts[i] = trailing[i];
                return ts;
            }
        }
    }

    /// <summary>
    /// The beta schedule of Lee et al. 2024 ("Beta Sampling is All You Need", https://arxiv.org/abs/2407.12173):
    /// n levels sigma_min + F^-1(1 - r) (sigma_max - sigma_min), r evenly in [0, 1] and F^-1 the Beta(alpha, beta)
    /// quantile (diffusers' <c>_convert_to_beta</c> with scipy's <c>beta.ppf</c>), from sigma_max down to sigma_min.
    /// </summary>
    public static double[] Beta(double sigmaMin, double sigmaMax, int n, double alpha = 0.6, double beta = 0.6) =>
        Linspace(0, 1, n).Select(r => sigmaMin + BetaDistribution.Quantile(1 - r, alpha, beta) * (sigmaMax - sigmaMin)).ToArray();

    /// <summary>
    /// Which respacing of the inference sigmas the use_karras_sigmas / use_exponential_sigmas / use_beta_sigmas flags
    /// ask for.
    /// </summary>
    /// <exception cref="ArgumentException">More than one flag is set.</exception>
    internal static SigmaSpacing SpacingOf(bool useKarrasSigmas, bool useExponentialSigmas, bool useBetaSigmas)
    {
        if ((useKarrasSigmas ? 1 : 0) + (useExponentialSigmas ? 1 : 0) + (useBetaSigmas ? 1 : 0) > 1)
            throw new ArgumentException("only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true", "use_karras_sigmas");
        return useKarrasSigmas ? SigmaSpacing.Karras : useExponentialSigmas ? SigmaSpacing.Exponential
            : useBetaSigmas ? SigmaSpacing.Beta : SigmaSpacing.Interpolated;
    }

    /// <summary>
    /// The inference sigmas (float64, one per timestep) of a sigma-space scheduler: the training sigmas interpolated
    /// at <paramref name="timesteps"/>, or respaced from their range (Karras, exponential), the timesteps then
    /// recomputed from the new sigmas by <see cref="SigmaToT"/>.
    /// </summary>
    /// <param name="trainingSigmas">The T float32 training sigmas, increasing with t.</param>
    /// <param name="timesteps">The inference timesteps, descending.</param>
    /// <param name="sigmaMin">Lower end of a respaced schedule (default: the smallest interpolated sigma).</param>
    /// <param name="sigmaMax">Upper end of a respaced schedule (default: the largest interpolated sigma).</param>
    internal static (double[] Sigmas, double[] Timesteps) ForTimesteps(float[] trainingSigmas, IReadOnlyList<float> timesteps,
        SigmaSpacing spacing, double? sigmaMin = null, double? sigmaMax = null)
    {
        var sigmas = AtTimesteps(trainingSigmas, timesteps.Select(t => (double)t).ToArray());
        return Respace(sigmas, timesteps.Select(t => (double)t).ToArray(), trainingSigmas, spacing, timesteps.Count, sigmaMin, sigmaMax);
    }

    /// <summary>numpy's <c>interp(timesteps, arange(T), sigmas)</c>: the training sigmas at fractional timesteps, in float64.</summary>
    internal static double[] AtTimesteps(float[] trainingSigmas, IReadOnlyList<double> timesteps) =>
        Interp(timesteps, Enumerable.Range(0, trainingSigmas.Length).Select(i => (double)i).ToArray(), trainingSigmas.Select(s => (double)s).ToArray());

    /// <summary>
    /// Replaces <paramref name="sigmas"/> by an <paramref name="n"/>-level Karras, exponential or beta schedule over their
    /// range (or the given one) and the timesteps by those of the new levels; unchanged for <see cref="SigmaSpacing.Interpolated"/>.
    /// </summary>
    internal static (double[] Sigmas, double[] Timesteps) Respace(double[] sigmas, double[] timesteps, float[] trainingSigmas,
        SigmaSpacing spacing, int n, double? sigmaMin = null, double? sigmaMax = null)
    {
        if (spacing == SigmaSpacing.Interpolated) return (sigmas, timesteps);
        double lo = sigmaMin ?? sigmas[^1], hi = sigmaMax ?? sigmas[0];
        var respaced = spacing switch
        {
            SigmaSpacing.Karras => Karras(lo, hi, n),
            SigmaSpacing.Exponential => Exponential(lo, hi, n),
            _ => Beta(lo, hi, n),
        };
        var logSigmas = Log(trainingSigmas);
        return (respaced, respaced.Select(s => SigmaToT(s, logSigmas)).ToArray());
    }

    /// <summary>
    /// The Karras et al. 2022 schedule (https://arxiv.org/abs/2206.00364, eq. 5, rho = 7): n levels from sigma_max
    /// down to sigma_min, evenly spaced in sigma^(1/rho).
    /// </summary>
    public static double[] Karras(double sigmaMin, double sigmaMax, int n, double rho = 7.0)
    {
        var ramp = Linspace(0, 1, n);
        double minInvRho = Math.Pow(sigmaMin, 1 / rho), maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        return ramp.Select(r => Math.Pow(maxInvRho + r * (minInvRho - maxInvRho), rho)).ToArray();
    }

    /// <summary>n levels from sigma_max down to sigma_min, evenly spaced in log sigma (diffusers' <c>_convert_to_exponential</c>).</summary>
    public static double[] Exponential(double sigmaMin, double sigmaMax, int n) =>
        Linspace(Math.Log(sigmaMax), Math.Log(sigmaMin), n).Select(Math.Exp).ToArray();
}

/// <summary>How a sigma-space scheduler spaces its inference sigmas (from the use_*_sigmas flags).</summary>
internal enum SigmaSpacing
{
    /// <summary>The training sigmas interpolated at the inference timesteps.</summary>
    Interpolated,
    /// <summary>Karras et al. 2022, eq. 5 (use_karras_sigmas).</summary>
    Karras,
    /// <summary>Evenly spaced in sigma by the Beta(0.6, 0.6) quantile (use_beta_sigmas; Lee et al. 2024).</summary>
    Beta,
    /// <summary>Evenly spaced in log sigma (use_exponential_sigmas).</summary>
    Exponential,
}
