namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// The linear multistep method (Adams–Bashforth in sigma) on the probability-flow ODE, k-diffusion's
/// <c>sample_lms</c> (Crowson; Karras et al. 2022, https://arxiv.org/abs/2206.00364, sigma parameterisation):
/// x_{i+1} = x_i + sum_j c_{i,j} d_{i-j}, the coefficients integrating the Lagrange polynomials through the last
/// derivatives over [sigma_i, sigma_{i+1}]. Follows diffusers 0.40 <c>schedulers/scheduling_lms_discrete.py</c>.
/// </summary>
/// <remarks>
/// diffusers integrates the coefficients numerically (scipy's quad, relative tolerance 1e-4, on a float32 integrand);
/// here the integrand, a polynomial of degree order - 1, is integrated exactly by Gauss–Legendre quadrature.
/// The scheduler keeps the last <c>order</c> derivatives between steps; <see cref="SigmaSpaceScheduler.SetTimesteps"/> clears them.
/// </remarks>
public sealed class LMSDiscreteScheduler : SigmaSpaceScheduler
{
    /// <summary>The multistep order diffusers' <c>step</c> uses by default.</summary>
    public const int DefaultOrder = 4;

    readonly List<Tensor> derivatives = [];

    /// <summary>The configuration this scheduler was built from.</summary>
    public override LMSDiscreteSchedulerConfig Config { get; }

    /// <summary>One model evaluation per step (the multistep order is a <see cref="Step(Tensor, double, Tensor, int)"/> argument).</summary>
    public override int Order => 1;

    /// <exception cref="ArgumentException">An option value is not defined, more than one use_*_sigmas flag is set, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps is not positive.</exception>
    public LMSDiscreteScheduler(LMSDiscreteSchedulerConfig? config = null)
        : base(config ??= new(), TrainingAlphasCumprod(config))
    {
        Config = config;
        // diffusers' constructor sets a T-step schedule; Step still requires SetTimesteps.
        BuildSchedule(config.NumTrainTimesteps, null);
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static LMSDiscreteScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<LMSDiscreteSchedulerConfig>(path));

    /// <summary>Picks N timesteps by <c>timestep_spacing</c> and their sigmas (respaced when a use_*_sigmas flag asks), a final 0; clears the derivative history.</summary>
    private protected override void BuildSchedule(int n, int? numInferenceSteps)
    {
        var (sigmas, timesteps) = InferenceLevels(n);
        SetSchedule(sigmas, timesteps, numInferenceSteps);
        foreach (var d in derivatives) d.Dispose();
        derivatives.Clear();
    }

    /// <summary>
    /// c_{i,j} = integral over [sigma_i, sigma_{i+1}] of prod_{k != j} (tau - sigma_{i-k}) / (sigma_{i-j} - sigma_{i-k}) dtau,
    /// the weight of d_{i-j} (diffusers' <c>get_lms_coefficient(order, t, current_order)</c>), exact in float64.
    /// </summary>
    /// <param name="order">How many derivatives the step combines.</param>
    /// <param name="index">i, the step index (at least order - 1).</param>
    /// <param name="currentOrder">j, which derivative: 0 the newest.</param>
    /// <exception cref="ArgumentOutOfRangeException">The indices fall outside the schedule.</exception>
    public double LmsCoefficient(int order, int index, int currentOrder)
    {
        if (order < 1 || currentOrder < 0 || currentOrder >= order || index - (order - 1) < 0 || index + 1 >= sigmas.Length)
            throw new ArgumentOutOfRangeException(nameof(index), $"LMS coefficient needs 0 <= currentOrder < order <= index + 1 < {sigmas.Length}; got order {order}, index {index}, currentOrder {currentOrder}");
        double a = sigmas[index], b = sigmas[index + 1];
        double LagrangeBasis(double tau)
        {
            double prod = 1.0;
            for (int k = 0; k < order; k++)
            {
                if (k == currentOrder) continue;
                prod *= (tau - sigmas[index - k]) / ((double)sigmas[index - currentOrder] - sigmas[index - k]);
            }
            return prod;
        }
        // An m-point Gauss–Legendre rule is exact for polynomials of degree 2m - 1 >= order - 1.
        var (nodes, weights) = GaussLegendre(order / 2 + 1);
        double half = (b - a) / 2, mid = (a + b) / 2, sum = 0;
        for (int q = 0; q < nodes.Length; q++) sum += weights[q] * LagrangeBasis(mid + half * nodes[q]);
        return half * sum;
    }

    /// <summary>Nodes and weights of the m-point Gauss–Legendre rule on [-1, 1] (Newton's method on P_m from the Chebyshev guesses).</summary>
    static (double[] Nodes, double[] Weights) GaussLegendre(int m)
    {
        var nodes = new double[m];
        var weights = new double[m];
        for (int i = 0; i < m; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (m + 0.5)), dp = 0;
            for (int iter = 0; iter < 100; iter++)
            {
                // P_m(x) by the three-term recurrence, and P_m'(x) = m (x P_m - P_{m-1}) / (x^2 - 1).
                double p0 = 1, p1 = x;
                for (int k = 2; k <= m; k++) (p0, p1) = (p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k);
                dp = m * (x * p1 - p0) / (x * x - 1);
                double next = x - p1 / dp;
                bool done = Math.Abs(next - x) < 1e-16;
                x = next;
                if (done) break;
            }
            nodes[i] = x;
            weights[i] = 2 / ((1 - x * x) * dp * dp);
        }
        return (nodes, weights);
    }

    /// <summary>A step of diffusers' default order, <see cref="DefaultOrder"/>.</summary>
    /// <inheritdoc cref="Step(Tensor, double, Tensor, int)"/>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        int i = BeginStep(modelOutput, timestep, sample, noise, generator);
        return LmsStep(i, modelOutput, sample, DefaultOrder);
    }

    /// <summary>
    /// One linear multistep step from sigma_i to sigma_{i+1}: d_i = (x_i - D(x_i; sigma_i)) / sigma_i joins the
    /// history, and x_{i+1} = x_i + sum_{j &lt; k} c_{i,j} d_{i-j} with k = min(i + 1, order) (fewer at the start).
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise, x_0 or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="SigmaSpaceScheduler.Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) x_i.</param>
    /// <param name="order">How many past derivatives to combine (diffusers' default 4).</param>
    /// <exception cref="InvalidOperationException"><see cref="SigmaSpaceScheduler.SetTimesteps"/> has not been called, or the schedule is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ, or the first timestep is not in the schedule.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="order"/> is not positive.</exception>
    public SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, int order)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(order);
        int i = BeginStep(modelOutput, timestep, sample, null, null);
        return LmsStep(i, modelOutput, sample, order);
    }

    SchedulerOutput LmsStep(int i, Tensor modelOutput, Tensor sample, int order)
    {
        using var scope = torch.NewDisposeScope();
        float sigma = sigmas[i];

        // 1. The denoised estimate and the ODE derivative d_i at sigma_i; keep the newest `order` derivatives.
        var predOriginalSample = PredictOriginalSample(Config.PredictionType, modelOutput, sample, sigma);
        derivatives.Add(Keep((sample - predOriginalSample) / sigma));
        if (derivatives.Count > order)
        {
            derivatives[0].Dispose();
            derivatives.RemoveAt(0);
        }

        // 2. x_{i+1} = x_i + sum_j c_{i,j} d_{i-j}, newest derivative first.
        int k = Math.Min(i + 1, order);
        Tensor? increment = null;
        for (int j = 0; j < Math.Min(k, derivatives.Count); j++)
        {
            var term = LmsCoefficient(k, i, j) * derivatives[derivatives.Count - 1 - j];
            increment = increment is null ? term : increment + term;
        }
        var prevSample = sample + increment!;

        EndStep();
        return new SchedulerOutput(NoiseSchedule.Escape(prevSample, modelOutput, sample), NoiseSchedule.Escape(predOriginalSample, modelOutput, sample));
    }
}
