namespace SharpVision.Diffusion.Schedulers;

/// <summary>How an exponential solver turns the spaced timesteps into noise levels.</summary>
internal enum SolverSigmaSpacing
{
    /// <summary>The training sigmas at the spaced timesteps.</summary>
    Training,
    /// <summary>Karras et al. 2022, rho = 7.</summary>
    Karras,
    /// <summary>Evenly spaced in log sigma.</summary>
    Exponential,
    /// <summary>Lu et al. 2022's uniform-lambda spacing (DPM-Solver's <c>use_lu_lambdas</c>).</summary>
    LuLambdas,
}

/// <summary>
/// The schedule arithmetic of the exponential solvers that needs no scheduler state: the spaced inference timesteps
/// and the reference environment's float32 linspace betas (diffusers 0.40 set_timesteps and __init__, PyTorch 1.13).
/// </summary>
internal static class SolverSchedule
{
    /// <summary>
    /// The N spaced timesteps, descending, as these solvers' set_timesteps makes them from the first
    /// <paramref name="lastTimestep"/> training steps (Lin et al. 2023, table 2); numpy's float64 arithmetic,
    /// rounding half to even. <c>trailing</c> keeps N entries where numpy's arange would make N + 1 (see
    /// <see cref="NoiseSchedule.DescendingTimesteps"/>).
    /// </summary>
    public static long[] SpacedTimesteps(TimestepSpacing spacing, int numTrainTimesteps, int lastTimestep, int n, int stepsOffset)
    {
        SchedulerOptions.RequireDefined(spacing);
        var ts = new long[n];
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
            {
                // linspace(0, last - 1, N + 1), reversed, without its final 0.
                var grid = SigmaSchedule.Linspace(0, lastTimestep - 1, n + 1);
                for (int k = 0; k < n; k++) ts[k] = (long)Math.Round(grid[n - k], MidpointRounding.ToEven);
                break;
            }
            case TimestepSpacing.Leading:
            {
                long ratio = lastTimestep / (n + 1);
                for (int k = 0; k < n; k++) ts[k] = (n - k) * ratio + stepsOffset;
                break;
            }
            default:
            {
                // arange(last, 0, -T / N) filled as last + i * ((last - T / N) - last), rounded, minus 1.
                double ratio = (double)numTrainTimesteps / n;
                double delta = (lastTimestep + -ratio) - lastTimestep;
                for (int k = 0; k < n; k++) ts[k] = (long)Math.Round(lastTimestep + k * delta, MidpointRounding.ToEven) - 1;
                break;
            }
        }
        return ts;
    }

    /// <summary>
    /// The linear and scaled_linear betas as the reference environment of these solvers' fixtures (PyTorch 1.13 CPU)
    /// builds them, passed on as explicit betas; null for the cosine schedule. See <see cref="TorchLinspaceFloat32"/>.
    /// </summary>
    public static double[]? ReferenceLinspaceBetas(ExponentialSolverConfig config)
    {
        SchedulerOptions.RequireDefined(config.BetaSchedule);
        int n = config.NumTrainTimesteps;
        return config.BetaSchedule switch
        {
            BetaSchedule.Linear => TorchLinspaceFloat32(config.BetaStart, config.BetaEnd, n).Select(b => (double)b).ToArray(),
            BetaSchedule.ScaledLinear => TorchLinspaceFloat32(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), n).Select(r => (double)(r * r)).ToArray(),
            _ => null,
        };
    }

    /// <summary>
    /// PyTorch 1.13's CPU <c>torch.linspace(start, end, n, dtype=float32)</c>: the step in float64, the first half
    /// counted up from start and the second down from end, filled 8 at a time as block start + i * float32(step) in
    /// float32, the last n mod 16 entries one by one. TorchSharp-cpu 0.107's libtorch (which <see cref="NoiseSchedule"/>
    /// uses, and which the DDIM/DDPM fixtures match) takes the step in float32: some betas move by an ulp, late
    /// sigmas by one or two, and a 15-step multistep chain carries that past 1e-5.
    /// </summary>
    internal static float[] TorchLinspaceFloat32(double start, double end, int n)
    {
        var y = new float[n];
        if (n == 1) y[0] = (float)start;
        if (n <= 1) return y;
        float start32 = (float)start, end32 = (float)end;
        double step = ((double)end32 - start32) / (n - 1);
        float step32 = (float)step;
        int halfway = n / 2, vectorized = n / 16 * 16;
        float Scalar(int i) => i < halfway ? (float)(start32 + step * i) : (float)(end32 - step * (n - i - 1));
        for (int block = 0; block < vectorized; block += 8)
        {
            float first = Scalar(block);
            for (int i = 0; i < 8; i++) y[block + i] = first + i * step32;
        }
        for (int i = vectorized; i < n; i++) y[i] = Scalar(i);
        return y;
    }

}
