namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Singlestep DPM-Solver and DPM-Solver++ (Lu et al. 2022, https://arxiv.org/abs/2206.00927, algorithms 1 and 2;
/// Lu et al. 2022b, https://arxiv.org/abs/2211.01095): the schedule is cut into blocks of 1, 2 or 3 steps; each block
/// is one high-order step from its first sample, its inner steps giving the intermediate model evaluations.
/// Follows diffusers 0.40 <c>schedulers/scheduling_dpmsolver_singlestep.py</c>.
/// </summary>
/// <remarks>
/// Flow-matching sigmas, dynamic shifting and beta sigmas are rejected. Where diffusers switches lower_order_final on
/// in set_timesteps (an uneven step count, or a final sigma of zero) it rewrites its config; here the config record
/// stays as read and the order list uses the switched value.
/// </remarks>
public sealed class DPMSolverSinglestepScheduler : ExponentialSolverScheduler<DPMSolverSinglestepSchedulerConfig>
{
    int[] orderList = [];
    Tensor? blockSample;

    /// <summary>The solver order of each step of the loop (the block structure); empty before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<int> OrderList => orderList;

    bool DataPrediction => DPMSolverUpdates.IsDataPrediction(Config.AlgorithmType);
    bool Stochastic => Config.AlgorithmType == DPMSolverAlgorithmType.SdeDPMSolverPlusPlus;
    bool LearnedVariance => DPMSolverUpdates.IsLearned(Config.VarianceType);

    /// <exception cref="ArgumentException">An option is undefined or unsupported (sde-dpmsolver, final_sigmas_type zero with dpmsolver).</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or solver_order out of range.</exception>
    public DPMSolverSinglestepScheduler(DPMSolverSinglestepSchedulerConfig? config = null)
        : base(config ?? new DPMSolverSinglestepSchedulerConfig(), nameof(DPMSolverSinglestepScheduler))
    {
        if (Config.AlgorithmType == DPMSolverAlgorithmType.SdeDPMSolver)
            throw new ArgumentException("algorithm_type 'sde-dpmsolver' has no singlestep form; expected one of: dpmsolver, dpmsolver++, sde-dpmsolver++", "algorithm_type");
        DPMSolverUpdates.RequireValid(Config.AlgorithmType, Config.SolverType, Config.FinalSigmasType, Config.VarianceType);
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static DPMSolverSinglestepScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<DPMSolverSinglestepSchedulerConfig>(path));

    /// <summary>
    /// N timesteps evenly spaced (linspace) over the training steps with lambda at least lambda_min_clipped, their
    /// sigmas (or Karras / exponential ones), the final sigma and the block orders; clears the history.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public override void SetTimesteps(int numInferenceSteps)
    {
        NoiseSchedule.RequireStepCount(numInferenceSteps, Config.NumTrainTimesteps);
        int last = Config.NumTrainTimesteps - Core.ClippedCount(Config.LambdaMinClipped);
        var spaced = SolverSchedule.SpacedTimesteps(TimestepSpacing.Linspace, Config.NumTrainTimesteps, last, numInferenceSteps, 0);
        var spacing = ConvertedSpacing;
        var (ts, sigmas) = Core.Schedule(spaced, spacing, roundConverted: true);
        Core.SetSchedule(ts, sigmas, Config.FinalSigmasType == FinalSigmasType.SigmaMin ? Core.TrainSigmas[0] : 0.0);
        bool lowerOrderFinal = Config.LowerOrderFinal || numInferenceSteps % Config.SolverOrder != 0 || Config.FinalSigmasType == FinalSigmasType.Zero;
        orderList = OrdersOf(numInferenceSteps, Config.SolverOrder, lowerOrderFinal, Config.FinalSigmasType);
        blockSample?.Dispose();
        blockSample = null;
    }

    /// <summary>
    /// The order of each step: repeating blocks 1, 2(, 3); with lower_order_final the tail ends in lower-order blocks
    /// so the last block fits; a zero final sigma makes the very last step first order.
    /// </summary>
    static int[] OrdersOf(int steps, int order, bool lowerOrderFinal, FinalSigmasType finalSigmas)
    {
        static IEnumerable<int> Repeat(int[] block, int times) => Enumerable.Repeat(block, Math.Max(times, 0)).SelectMany(b => b);
        List<int> orders = (order, lowerOrderFinal) switch
        {
            (3, true) => (steps % 3) switch
            {
                0 => [.. Repeat([1, 2, 3], steps / 3 - 1), 1, 2, 1],
                1 => [.. Repeat([1, 2, 3], steps / 3), 1],
                _ => [.. Repeat([1, 2, 3], steps / 3), 1, 2],
            },
            (2, true) => steps % 2 == 0 ? [.. Repeat([1, 2], steps / 2 - 1), 1, 1] : [.. Repeat([1, 2], steps / 2), 1],
            (3, false) => [.. Repeat([1, 2, 3], steps / 3)],
            (2, false) => [.. Repeat([1, 2], steps / 2)],
            _ => [.. Enumerable.Repeat(1, steps)],
        };
        if (finalSigmas == FinalSigmasType.Zero) orders[^1] = 1;
        return [.. orders];
    }



    /// <summary>
    /// One step of the loop: stores the model output, and returns the sample at the next timestep computed from the
    /// first sample of the current block with all of the block's outputs so far (order = the step's position in its block).
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction ((B, 2C, H, W) with a learned variance).</param>
    /// <param name="timestep">The current entry of <c>Timesteps</c>.</param>
    /// <param name="sample">(B, C, H, W) the current sample.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise for sde-dpmsolver++; drawn when null.</param>
    /// <param name="generator">Source of the drawn noise.</param>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called, or the loop is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        Core.BeginStep(modelOutput, timestep, sample, noise, LearnedVariance);
        using var scope = torch.NewDisposeScope();
        int i = Core.StepIndex;
        var converted = DataPrediction
            ? Core.DataPrediction(modelOutput, sample, LearnedVariance)
            : Core.NoisePrediction(modelOutput, sample, threshold: true, LearnedVariance);
        Core.Push(converted, modelOutput, sample);
        var z = Stochastic ? ExponentialSolverCore.NoiseFor(modelOutput, noise, generator, modelOutput.dtype) : null;

        // The block's order, lowered while the history is short (an image-to-image start mid-block).
        int order = orderList[i];
        while (Core.Output(order - 1) is null) order--;
        if (order == 1)
        {
            blockSample?.Dispose();
            blockSample = ExponentialSolverCore.Keep(sample, modelOutput, sample);
        }
        var prev = order switch
        {
            1 => Core.FirstOrderUpdate(converted, blockSample!, DataPrediction, Stochastic, z),
            2 => SecondOrderUpdate(blockSample!, z),
            _ => ThirdOrderUpdate(blockSample!, z),
        };
        Core.EndStep();
        return new SchedulerOutput(prev.MoveToOuterDisposeScope(), DataPrediction ? converted.alias().MoveToOuterDisposeScope() : null);
    }

    /// <summary>Singlestep DPM-Solver-2 from s1 (the block start) to t, with m1 at s1 and m0 at the intermediate s0.</summary>
    Tensor SecondOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = Core.StepIndex;
        float lambdaT = Core.Lambda(s + 1), lambdaS0 = Core.Lambda(s), lambdaS1 = Core.Lambda(s - 1);
        Tensor m0 = Core.Output(0)!, m1 = Core.Output(1)!;
        float h = lambdaT - lambdaS1, r0 = (lambdaS0 - lambdaS1) / h;
        return DPMSolverUpdates.SecondOrder(Config.AlgorithmType, Config.SolverType == DPMSolverType.Midpoint, sample,
            Core.AlphaSigma(s + 1), Core.AlphaSigma(s - 1), h, m1, 1f / r0 * (m0 - m1), noise);
    }

    /// <summary>Singlestep DPM-Solver-3 from s2 (the block start) to t, with m2, m1, m0 at s2, s1, s0; midpoint uses D1 from m0 alone.</summary>
    Tensor ThirdOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = Core.StepIndex;
        float lambdaT = Core.Lambda(s + 1), lambdaS0 = Core.Lambda(s), lambdaS1 = Core.Lambda(s - 1), lambdaS2 = Core.Lambda(s - 2);
        Tensor m0 = Core.Output(0)!, m1 = Core.Output(1)!, m2 = Core.Output(2)!;
        float h = lambdaT - lambdaS2, h0 = lambdaS0 - lambdaS2, h1 = lambdaS1 - lambdaS2;
        float r0 = h0 / h, r1 = h1 / h;
        Tensor d10 = 1f / r1 * (m1 - m2), d11 = 1f / r0 * (m0 - m2);
        var (t, start) = (Core.AlphaSigma(s + 1), Core.AlphaSigma(s - 2));
        if (Config.SolverType == DPMSolverType.Midpoint)
            return DPMSolverUpdates.ThirdOrder(Config.AlgorithmType, sample, t, start, h, m2, d11, null, noise);
        var d1 = (r0 * d10 - r1 * d11) / (r0 - r1);
        var d2 = 2f * (d11 - d10) / (r0 - r1);
        return DPMSolverUpdates.ThirdOrder(Config.AlgorithmType, sample, t, start, h, m2, d1, d2, noise);
    }
}
