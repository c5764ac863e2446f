namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Multistep DPM-Solver and DPM-Solver++ (Lu et al. 2022, https://arxiv.org/abs/2206.00927; Lu et al. 2022b,
/// https://arxiv.org/abs/2211.01095): a fast high-order solver of the diffusion ODE (or SDE) in the log-SNR variable
/// lambda, reusing the previous steps' model outputs instead of extra evaluations. Good samples in 10 to 25 steps;
/// <c>dpmsolver++</c> with order 2 is "DPM++ 2M", with Karras sigmas "DPM++ 2M Karras", with <c>sde-dpmsolver++</c>
/// "DPM++ 2M SDE". Follows diffusers 0.40 <c>schedulers/scheduling_dpmsolver_multistep.py</c>.
/// </summary>
/// <remarks>
/// Flow-matching sigmas, dynamic shifting and beta sigmas are rejected; the <c>timesteps=</c> custom schedule and
/// <c>mu</c> of diffusers' set_timesteps are not offered. <c>trailing</c> spacing always gives N timesteps (numpy
/// gives N + 1 for some (T, N), see <see cref="NoiseSchedule.DescendingTimesteps"/>).
/// </remarks>
public sealed class DPMSolverMultistepScheduler : ExponentialSolverScheduler<DPMSolverMultistepSchedulerConfig>
{


    bool DataPrediction => DPMSolverUpdates.IsDataPrediction(Config.AlgorithmType);
    bool Stochastic => Config.AlgorithmType is DPMSolverAlgorithmType.SdeDPMSolver or DPMSolverAlgorithmType.SdeDPMSolverPlusPlus;
    bool LearnedVariance => DPMSolverUpdates.IsLearned(Config.VarianceType);

    /// <exception cref="ArgumentException">An option is undefined or unsupported, or final_sigmas_type zero with a noise-prediction algorithm.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or solver_order out of range.</exception>
    public DPMSolverMultistepScheduler(DPMSolverMultistepSchedulerConfig? config = null)
        : base(config ?? new DPMSolverMultistepSchedulerConfig(), nameof(DPMSolverMultistepScheduler))
    {
        DPMSolverUpdates.RequireValid(Config.AlgorithmType, Config.SolverType, Config.FinalSigmasType, Config.VarianceType);
        SchedulerOptions.RequireDefined(Config.TimestepSpacing);
        if ((Config.UseLuLambdas ? 1 : 0) + (Config.UseKarrasSigmas ? 1 : 0) + (Config.UseExponentialSigmas ? 1 : 0) > 1)
            throw new ArgumentException("DPMSolverMultistepScheduler: use at most one of use_karras_sigmas, use_lu_lambdas, use_exponential_sigmas", "use_lu_lambdas");
        if (Config.AlgorithmType == DPMSolverAlgorithmType.SdeDPMSolver && Config.SolverOrder == 3)
            throw new ArgumentException("algorithm_type sde-dpmsolver has no third-order update (diffusers defines none); use solver_order 1 or 2", "solver_order");
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static DPMSolverMultistepScheduler FromConfigFile(string path) =>
        new(SchedulerConfigJson.Load<DPMSolverMultistepSchedulerConfig>(path));

    /// <summary>
    /// Spaces N timesteps over the training steps whose lambda is at least lambda_min_clipped, takes their sigmas
    /// (or a Karras, exponential or uniform-lambda schedule mapped back to timesteps) and appends the final sigma;
    /// clears the model-output history.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public override void SetTimesteps(int numInferenceSteps)
    {
        NoiseSchedule.RequireStepCount(numInferenceSteps, Config.NumTrainTimesteps);
        int last = Config.NumTrainTimesteps - Core.ClippedCount(Config.LambdaMinClipped);
        var spaced = SolverSchedule.SpacedTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, last, numInferenceSteps, Config.StepsOffset);
        var spacing = Config.UseLuLambdas ? SolverSigmaSpacing.LuLambdas : ConvertedSpacing;
        // diffusers keeps the cosine schedule's converted timesteps fractional (then truncated to int64).
        var (ts, sigmas) = Core.Schedule(spaced, spacing, roundConverted: Config.BetaSchedule != BetaSchedule.SquaredcosCapV2);
        Core.SetSchedule(ts, sigmas, Config.FinalSigmasType == FinalSigmasType.SigmaMin ? Core.TrainSigmas[0] : 0.0);
    }



    /// <summary>
    /// One multistep DPM-Solver step from the current noise level s0 to the next, t, of order 1 during warm-up and at
    /// the end (lower_order_final, euler_at_final, or a final sigma of zero), else solver_order.
    /// </summary>
    /// <remarks>
    /// <list type="table">
    /// <listheader><term>variable</term><description>symbol (Lu et al. 2022b, algorithm 2)</description></listheader>
    /// <item><term>m0, m1, m2</term><description>the converted outputs (x_0 for ++, else epsilon) at s0, s1, s2 (newest first)</description></item>
    /// <item><term>h, h0, h1</term><description>lambda_t - lambda_s0, lambda_s0 - lambda_s1, lambda_s1 - lambda_s2</description></item>
    /// <item><term>r0, r1</term><description>h0 / h, h1 / h</description></item>
    /// <item><term>d1, d2</term><description>the first and second divided differences D1, D2</description></item>
    /// </list>
    /// </remarks>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction ((B, 2C, H, W) with a learned variance).</param>
    /// <param name="timestep">The current entry of <c>Timesteps</c>.</param>
    /// <param name="sample">(B, C, H, W) x_s0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise for the SDE algorithms; drawn when null.</param>
    /// <param name="generator">Source of the drawn noise.</param>
    /// <returns>x_t, and x_0 for the data-prediction algorithms.</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called, or the loop is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        Core.BeginStep(modelOutput, timestep, sample, noise, LearnedVariance);
        using var scope = torch.NewDisposeScope();
        int i = Core.StepIndex, n = Core.TimestepCount;

        // 1. The order of this step: first order to start, and near the end where higher orders are unstable.
        bool lowerOrderFinal = i == n - 1 && (Config.EulerAtFinal || (Config.LowerOrderFinal && n < 15) || Config.FinalSigmasType == FinalSigmasType.Zero);
        bool lowerOrderSecond = i == n - 2 && Config.LowerOrderFinal && n < 15;

        // 2. The model output as the solver's variable (x_0 for DPM-Solver++, epsilon for DPM-Solver), into the history.
        var converted = DataPrediction
            ? Core.DataPrediction(modelOutput, sample, LearnedVariance)
            : Core.NoisePrediction(modelOutput, sample, threshold: true, LearnedVariance);
        Core.Push(converted, modelOutput, sample);
        var x = sample.to(ScalarType.Float32);
        var z = Stochastic ? ExponentialSolverCore.NoiseFor(modelOutput, noise, generator, ScalarType.Float32) : null;

        // 3. The update of that order.
        Tensor prev;
        if (Config.SolverOrder == 1 || Core.LowerOrderNums < 1 || lowerOrderFinal)
            prev = Core.FirstOrderUpdate(converted, x, DataPrediction, Stochastic, z);
        else if (Config.SolverOrder == 2 || Core.LowerOrderNums < 2 || lowerOrderSecond)
            prev = SecondOrderUpdate(x, z);
        else
            prev = ThirdOrderUpdate(x, z);
        prev = prev.to(converted.dtype);
        Core.EndStep();
        return new SchedulerOutput(prev.MoveToOuterDisposeScope(),
            DataPrediction ? converted.alias().MoveToOuterDisposeScope() : null);
    }

    /// <summary>Multistep DPM-Solver-2 (Lu et al. 2022b, algorithm 2): from s0 with m0, and D1 from m1 at s1.</summary>
    Tensor SecondOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = Core.StepIndex;
        float lambdaT = Core.Lambda(s + 1), lambdaS0 = Core.Lambda(s), lambdaS1 = Core.Lambda(s - 1);
        Tensor m0 = Core.Output(0)!, m1 = Core.Output(1)!;
        float h = lambdaT - lambdaS0, r0 = (lambdaS0 - lambdaS1) / h;
        return DPMSolverUpdates.SecondOrder(Config.AlgorithmType, Config.SolverType == DPMSolverType.Midpoint, sample,
            Core.AlphaSigma(s + 1), Core.AlphaSigma(s), h, m0, 1f / r0 * (m0 - m1), noise);
    }

    /// <summary>Multistep DPM-Solver-3 (Lu et al. 2022b, appendix B): D1 and D2 from m0, m1, m2 at s0, s1, s2.</summary>
    Tensor ThirdOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = Core.StepIndex;
        float lambdaT = Core.Lambda(s + 1), lambdaS0 = Core.Lambda(s), lambdaS1 = Core.Lambda(s - 1), lambdaS2 = Core.Lambda(s - 2);
        Tensor m0 = Core.Output(0)!, m1 = Core.Output(1)!, m2 = Core.Output(2)!;
        float h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1, h1 = lambdaS1 - lambdaS2;
        float r0 = h0 / h, r1 = h1 / h;
        Tensor d10 = 1f / r0 * (m0 - m1), d11 = 1f / r1 * (m1 - m2);
        var d1 = d10 + r0 / (r0 + r1) * (d10 - d11);
        var d2 = 1f / (r0 + r1) * (d10 - d11);
        return DPMSolverUpdates.ThirdOrder(Config.AlgorithmType, sample, Core.AlphaSigma(s + 1), Core.AlphaSigma(s), h, m0, d1, d2, noise);
    }
}
