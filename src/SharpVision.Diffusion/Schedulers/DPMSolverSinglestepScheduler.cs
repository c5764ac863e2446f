using TorchSharp;
using static TorchSharp.torch;

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
public sealed class DPMSolverSinglestepScheduler : IDiffusionScheduler
{
    readonly ExponentialSolverCore core;
    int[] orderList = [];
    Tensor? blockSample;

    /// <summary>The configuration this scheduler was built from.</summary>
    public DPMSolverSinglestepSchedulerConfig Config { get; }
    SchedulerConfig IDiffusionScheduler.Config => Config;

    /// <summary>One model evaluation per step.</summary>
    public int Order => 1;
    public double InitNoiseSigma => 1.0;
    public int? NumInferenceSteps => core.NumInferenceSteps;
    /// <summary>The timesteps of the loop, descending; all T before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<double> Timesteps => core.Timesteps;
    /// <summary>The N + 1 float32 noise levels of the loop; null before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<double>? Sigmas => core.Sigmas;
    /// <summary>The solver order of each step of the loop (the block structure); empty before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<int> OrderList => orderList;

    bool DataPrediction => Config.AlgorithmType is DPMSolverAlgorithmType.DPMSolverPlusPlus or DPMSolverAlgorithmType.SdeDPMSolverPlusPlus;
    bool Stochastic => Config.AlgorithmType == DPMSolverAlgorithmType.SdeDPMSolverPlusPlus;
    bool LearnedVariance => Config.VarianceType is DDPMVarianceType.Learned or DDPMVarianceType.LearnedRange;

    /// <exception cref="ArgumentException">An option is undefined or unsupported (sde-dpmsolver, final_sigmas_type zero with dpmsolver).</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or solver_order out of range.</exception>
    public DPMSolverSinglestepScheduler(DPMSolverSinglestepSchedulerConfig? config = null)
    {
        Config = config ?? new DPMSolverSinglestepSchedulerConfig();
        SchedulerOptions.RequireDefined(Config.AlgorithmType);
        SchedulerOptions.RequireDefined(Config.SolverType);
        SchedulerOptions.RequireDefined(Config.FinalSigmasType);
        if (Config.VarianceType is { } v) SchedulerOptions.RequireDefined(v);
        if (Config.AlgorithmType == DPMSolverAlgorithmType.SdeDPMSolver)
            throw new ArgumentException("algorithm_type 'sde-dpmsolver' has no singlestep form; expected one of: dpmsolver, dpmsolver++, sde-dpmsolver++", "algorithm_type");
        if (!DataPrediction && Config.FinalSigmasType == FinalSigmasType.Zero)
            throw new ArgumentException("final_sigmas_type zero needs algorithm_type dpmsolver++ or sde-dpmsolver++; got dpmsolver (use sigma_min)", "final_sigmas_type");
        core = new ExponentialSolverCore(Config, rescaleBetasZeroSnr: false, nameof(DPMSolverSinglestepScheduler));
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static DPMSolverSinglestepScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<DPMSolverSinglestepSchedulerConfig>(path));

    /// <summary>
    /// N timesteps evenly spaced (linspace) over the training steps with lambda at least lambda_min_clipped, their
    /// sigmas (or Karras / exponential ones), the final sigma and the block orders; clears the history.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public void SetTimesteps(int numInferenceSteps)
    {
        NoiseSchedule.RequireStepCount(numInferenceSteps, Config.NumTrainTimesteps);
        int last = Config.NumTrainTimesteps - core.ClippedCount(Config.LambdaMinClipped);
        var spaced = ExponentialSolverCore.SpacedTimesteps(TimestepSpacing.Linspace, Config.NumTrainTimesteps, last, numInferenceSteps, 0);
        var spacing = Config.UseKarrasSigmas ? SolverSigmaSpacing.Karras
            : Config.UseExponentialSigmas ? SolverSigmaSpacing.Exponential
            : SolverSigmaSpacing.Training;
        var (ts, sigmas) = core.Schedule(spaced, spacing, roundConverted: true);
        core.SetSchedule(ts, sigmas, Config.FinalSigmasType == FinalSigmasType.SigmaMin ? core.TrainSigmas[0] : 0.0);
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

    /// <inheritdoc/>
    public void SetBeginIndex(int beginIndex) => core.SetBeginIndex(beginIndex);

    /// <summary>DPM-Solver needs no input scaling; returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, double timestep) => sample;

    /// <summary>
    /// One step of the loop: stores the model output, and returns the sample at the next timestep computed from the
    /// first sample of the current block with all of the block's outputs so far (order = the step's position in its block).
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction ((B, 2C, H, W) with a learned variance).</param>
    /// <param name="timestep">The current entry of <see cref="Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) the current sample.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise for sde-dpmsolver++; drawn when null.</param>
    /// <param name="generator">Source of the drawn noise.</param>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called, or the loop is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        core.BeginStep(modelOutput, timestep, sample, noise, LearnedVariance);
        using var scope = torch.NewDisposeScope();
        int i = core.StepIndex;
        var converted = DataPrediction
            ? core.DataPrediction(modelOutput, sample, LearnedVariance)
            : core.NoisePrediction(modelOutput, sample, threshold: true, LearnedVariance);
        core.Push(converted, modelOutput, sample);
        var z = Stochastic ? ExponentialSolverCore.NoiseFor(modelOutput, noise, generator, modelOutput.dtype) : null;

        // The block's order, lowered while the history is short (an image-to-image start mid-block).
        int order = orderList[i];
        while (core.Output(order - 1) is null) order--;
        if (order == 1)
        {
            blockSample?.Dispose();
            blockSample = ExponentialSolverCore.Keep(sample, modelOutput, sample);
        }
        var prev = order switch
        {
            1 => core.FirstOrderUpdate(converted, blockSample!, DataPrediction, Stochastic, z),
            2 => SecondOrderUpdate(blockSample!, z),
            _ => ThirdOrderUpdate(blockSample!, z),
        };
        core.EndStep();
        return new SchedulerOutput(prev.MoveToOuterDisposeScope(), DataPrediction ? converted.alias().MoveToOuterDisposeScope() : null);
    }

    /// <summary>Singlestep DPM-Solver-2 from s1 (the block start) to t, with m1 at s1 and m0 at the midpoint s0.</summary>
    Tensor SecondOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = core.StepIndex;
        var (alphaT, sigmaT) = core.AlphaSigma(s + 1);
        var (alphaS1, sigmaS1) = core.AlphaSigma(s - 1);
        float lambdaT = core.Lambda(s + 1), lambdaS0 = core.Lambda(s), lambdaS1 = core.Lambda(s - 1);
        Tensor m0 = core.Output(0)!, m1 = core.Output(1)!;
        float h = lambdaT - lambdaS1, h0 = lambdaS0 - lambdaS1;
        float r0 = h0 / h;
        Tensor d0 = m1, d1 = 1f / r0 * (m0 - m1);
        bool midpoint = Config.SolverType == DPMSolverType.Midpoint;
        switch (Config.AlgorithmType)
        {
            case DPMSolverAlgorithmType.DPMSolverPlusPlus:
            {
                float phi1 = alphaT * (MathF.Exp(-h) - 1f);
                var x = sigmaT / sigmaS1 * sample - phi1 * d0;
                return midpoint ? x - 0.5f * phi1 * d1 : x + alphaT * ((MathF.Exp(-h) - 1f) / h + 1f) * d1;
            }
            case DPMSolverAlgorithmType.DPMSolver:
            {
                float phi1 = sigmaT * (MathF.Exp(h) - 1f);
                var x = alphaT / alphaS1 * sample - phi1 * d0;
                return midpoint ? x - 0.5f * phi1 * d1 : x - sigmaT * ((MathF.Exp(h) - 1f) / h - 1f) * d1;
            }
            default: // sde-dpmsolver++
            {
                float phi1 = alphaT * (1f - MathF.Exp(-2f * h));
                var x = sigmaT / sigmaS1 * MathF.Exp(-h) * sample + phi1 * d0;
                x = midpoint ? x + 0.5f * phi1 * d1 : x + alphaT * ((1f - MathF.Exp(-2f * h)) / (-2f * h) + 1f) * d1;
                return x + sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)) * noise!;
            }
        }
    }

    /// <summary>Singlestep DPM-Solver-3 from s2 (the block start) to t, with m2, m1, m0 at s2, s1, s0.</summary>
    Tensor ThirdOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = core.StepIndex;
        var (alphaT, sigmaT) = core.AlphaSigma(s + 1);
        var (alphaS2, sigmaS2) = core.AlphaSigma(s - 2);
        float lambdaT = core.Lambda(s + 1), lambdaS0 = core.Lambda(s), lambdaS1 = core.Lambda(s - 1), lambdaS2 = core.Lambda(s - 2);
        Tensor m0 = core.Output(0)!, m1 = core.Output(1)!, m2 = core.Output(2)!;
        float h = lambdaT - lambdaS2, h0 = lambdaS0 - lambdaS2, h1 = lambdaS1 - lambdaS2;
        float r0 = h0 / h, r1 = h1 / h;
        var d0 = m2;
        Tensor d10 = 1f / r1 * (m1 - m2), d11 = 1f / r0 * (m0 - m2);
        var d1 = (r0 * d10 - r1 * d11) / (r0 - r1);
        var d2 = 2f * (d11 - d10) / (r0 - r1);
        bool midpoint = Config.SolverType == DPMSolverType.Midpoint;
        switch (Config.AlgorithmType)
        {
            case DPMSolverAlgorithmType.DPMSolverPlusPlus:
            {
                var x = sigmaT / sigmaS2 * sample - alphaT * (MathF.Exp(-h) - 1f) * d0;
                float phi2 = alphaT * ((MathF.Exp(-h) - 1f) / h + 1f);
                return midpoint ? x + phi2 * d11 : x + phi2 * d1 - alphaT * ((MathF.Exp(-h) - 1f + h) / (h * h) - 0.5f) * d2;
            }
            case DPMSolverAlgorithmType.DPMSolver:
            {
                var x = alphaT / alphaS2 * sample - sigmaT * (MathF.Exp(h) - 1f) * d0;
                float phi2 = sigmaT * ((MathF.Exp(h) - 1f) / h - 1f);
                return midpoint ? x - phi2 * d11 : x - phi2 * d1 - sigmaT * ((MathF.Exp(h) - 1f - h) / (h * h) - 0.5f) * d2;
            }
            default: // sde-dpmsolver++
            {
                var x = sigmaT / sigmaS2 * MathF.Exp(-h) * sample + alphaT * (1f - MathF.Exp(-2f * h)) * d0;
                float phi2 = alphaT * ((1f - MathF.Exp(-2f * h)) / (-2f * h) + 1f);
                x = midpoint ? x + phi2 * d11
                    : x + phi2 * d1 + alphaT * ((1f - MathF.Exp(-2f * h) + -2f * h) / ((-2f * h) * (-2f * h)) - 0.5f) * d2;
                return x + sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)) * noise!;
            }
        }
    }

    /// <inheritdoc/>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => core.AddNoise(originalSamples, noise, timesteps);
}
