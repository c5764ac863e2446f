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
    /// log <paramref name="sigma"/> (clamped to the training range), in float64.
    /// </summary>
    /// <param name="sigma">A noise level.</param>
    /// <param name="logSigmas">The T training log sigmas (increasing with t), float32 as diffusers keeps them.</param>
    public static double SigmaToT(double sigma, IReadOnlyList<float> logSigmas)
    {
        double logSigma = Math.Log(Math.Max(sigma, 1e-10));
        // low_idx: the last index whose log sigma is <= log_sigma (0 when none), at most T - 2.
        int count = 0;
        for (int i = 0; i < logSigmas.Count; i++) if (logSigma - logSigmas[i] >= 0) count = i + 1;
        int low = Math.Min(Math.Max(count - 1, 0), logSigmas.Count - 2);
        double lowLog = logSigmas[low], highLog = logSigmas[low + 1];
        double w = Math.Clamp((lowLog - logSigma) / (lowLog - highLog), 0, 1);
        return (1 - w) * low + w * (low + 1);
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
