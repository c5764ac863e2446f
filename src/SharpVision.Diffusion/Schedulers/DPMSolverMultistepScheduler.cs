using TorchSharp;
using static TorchSharp.torch;

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
public sealed class DPMSolverMultistepScheduler : IDiffusionScheduler
{
    readonly ExponentialSolverCore core;

    /// <summary>The configuration this scheduler was built from.</summary>
    public DPMSolverMultistepSchedulerConfig Config { get; }
    SchedulerConfig IDiffusionScheduler.Config => Config;

    /// <summary>One model evaluation per step.</summary>
    public int Order => 1;
    /// <summary>1: the VP sample scale.</summary>
    public double InitNoiseSigma => 1.0;
    public int? NumInferenceSteps => core.NumInferenceSteps;
    /// <summary>The timesteps of the loop, descending; all T before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<double> Timesteps => core.Timesteps;
    /// <summary>The N + 1 float32 noise levels of the loop (the last one final_sigmas_type's); null before <see cref="SetTimesteps"/>.</summary>
    public IReadOnlyList<double>? Sigmas => core.Sigmas;

    bool DataPrediction => Config.AlgorithmType is DPMSolverAlgorithmType.DPMSolverPlusPlus or DPMSolverAlgorithmType.SdeDPMSolverPlusPlus;
    bool Stochastic => Config.AlgorithmType is DPMSolverAlgorithmType.SdeDPMSolver or DPMSolverAlgorithmType.SdeDPMSolverPlusPlus;
    bool LearnedVariance => Config.VarianceType is DDPMVarianceType.Learned or DDPMVarianceType.LearnedRange;

    /// <exception cref="ArgumentException">An option is undefined or unsupported, or final_sigmas_type zero with a noise-prediction algorithm.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or solver_order out of range.</exception>
    public DPMSolverMultistepScheduler(DPMSolverMultistepSchedulerConfig? config = null)
    {
        Config = config ?? new DPMSolverMultistepSchedulerConfig();
        SchedulerOptions.RequireDefined(Config.AlgorithmType);
        SchedulerOptions.RequireDefined(Config.SolverType);
        SchedulerOptions.RequireDefined(Config.FinalSigmasType);
        SchedulerOptions.RequireDefined(Config.TimestepSpacing);
        if (Config.VarianceType is { } v) SchedulerOptions.RequireDefined(v);
        if ((Config.UseLuLambdas ? 1 : 0) + (Config.UseKarrasSigmas ? 1 : 0) + (Config.UseExponentialSigmas ? 1 : 0) > 1)
            throw new ArgumentException("DPMSolverMultistepScheduler: use at most one of use_karras_sigmas, use_lu_lambdas, use_exponential_sigmas", "use_lu_lambdas");
        if (!DataPrediction && Config.FinalSigmasType == FinalSigmasType.Zero)
            throw new ArgumentException(
                $"final_sigmas_type zero needs algorithm_type dpmsolver++ or sde-dpmsolver++; got {SchedulerOptions.ToConfigString(Config.AlgorithmType)} (use sigma_min)",
                "final_sigmas_type");
        if (Config.AlgorithmType == DPMSolverAlgorithmType.SdeDPMSolver && Config.SolverOrder == 3)
            throw new ArgumentException("algorithm_type sde-dpmsolver has no third-order update (diffusers defines none); use solver_order 1 or 2", "solver_order");
        core = new ExponentialSolverCore(Config, Config.RescaleBetasZeroSnr, nameof(DPMSolverMultistepScheduler));
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
    public void SetTimesteps(int numInferenceSteps)
    {
        NoiseSchedule.RequireStepCount(numInferenceSteps, Config.NumTrainTimesteps);
        int last = Config.NumTrainTimesteps - core.ClippedCount(Config.LambdaMinClipped);
        var spaced = ExponentialSolverCore.SpacedTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, last, numInferenceSteps, Config.StepsOffset);
        var spacing = Config.UseKarrasSigmas ? SolverSigmaSpacing.Karras
            : Config.UseLuLambdas ? SolverSigmaSpacing.LuLambdas
            : Config.UseExponentialSigmas ? SolverSigmaSpacing.Exponential
            : SolverSigmaSpacing.Training;
        // diffusers keeps the cosine schedule's converted timesteps fractional (then truncated to int64).
        var (ts, sigmas) = core.Schedule(spaced, spacing, roundConverted: Config.BetaSchedule != BetaSchedule.SquaredcosCapV2);
        core.SetSchedule(ts, sigmas, Config.FinalSigmasType == FinalSigmasType.SigmaMin ? core.TrainSigmas[0] : 0.0);
    }

    /// <inheritdoc/>
    public void SetBeginIndex(int beginIndex) => core.SetBeginIndex(beginIndex);

    /// <summary>DPM-Solver needs no input scaling; returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, double timestep) => sample;

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
    /// <param name="timestep">The current entry of <see cref="Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) x_s0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise for the SDE algorithms; drawn when null.</param>
    /// <param name="generator">Source of the drawn noise.</param>
    /// <returns>x_t, and x_0 for the data-prediction algorithms.</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called, or the loop is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        core.BeginStep(modelOutput, timestep, sample, noise, LearnedVariance);
        using var scope = torch.NewDisposeScope();
        int i = core.StepIndex, n = core.TimestepCount;

        // 1. The order of this step: first order to start, and near the end where higher orders are unstable.
        bool lowerOrderFinal = i == n - 1 && (Config.EulerAtFinal || (Config.LowerOrderFinal && n < 15) || Config.FinalSigmasType == FinalSigmasType.Zero);
        bool lowerOrderSecond = i == n - 2 && Config.LowerOrderFinal && n < 15;

        // 2. The model output as the solver's variable (x_0 for DPM-Solver++, epsilon for DPM-Solver), into the history.
        var converted = DataPrediction
            ? core.DataPrediction(modelOutput, sample, LearnedVariance)
            : core.NoisePrediction(modelOutput, sample, threshold: true, LearnedVariance);
        core.Push(converted, modelOutput, sample);
        var x = sample.to(ScalarType.Float32);
        var z = Stochastic ? ExponentialSolverCore.NoiseFor(modelOutput, noise, generator, ScalarType.Float32) : null;

        // 3. The update of that order.
        Tensor prev;
        if (Config.SolverOrder == 1 || core.LowerOrderNums < 1 || lowerOrderFinal)
            prev = core.FirstOrderUpdate(converted, x, DataPrediction, Stochastic, z);
        else if (Config.SolverOrder == 2 || core.LowerOrderNums < 2 || lowerOrderSecond)
            prev = SecondOrderUpdate(x, z);
        else
            prev = ThirdOrderUpdate(x, z);
        prev = prev.to(converted.dtype);
        core.EndStep();
        return new SchedulerOutput(prev.MoveToOuterDisposeScope(),
            DataPrediction ? converted.alias().MoveToOuterDisposeScope() : null);
    }

    /// <summary>Multistep DPM-Solver-2 (Lu et al. 2022b, algorithm 2; the heun form from Lu et al. 2022, eq. 3.11).</summary>
    Tensor SecondOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = core.StepIndex;
        var (alphaT, sigmaT) = core.AlphaSigma(s + 1);
        var (alphaS0, sigmaS0) = core.AlphaSigma(s);
        float lambdaT = core.Lambda(s + 1), lambdaS0 = core.Lambda(s), lambdaS1 = core.Lambda(s - 1);
        Tensor m0 = core.Output(0)!, m1 = core.Output(1)!;
        float h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1;
        float r0 = h0 / h;
        Tensor d0 = m0, d1 = 1f / r0 * (m0 - m1);
        bool midpoint = Config.SolverType == DPMSolverType.Midpoint;
        switch (Config.AlgorithmType)
        {
            case DPMSolverAlgorithmType.DPMSolverPlusPlus:
            {
                float phi1 = alphaT * (MathF.Exp(-h) - 1f);
                var x = sigmaT / sigmaS0 * sample - phi1 * d0;
                return midpoint ? x - 0.5f * phi1 * d1 : x + alphaT * ((MathF.Exp(-h) - 1f) / h + 1f) * d1;
            }
            case DPMSolverAlgorithmType.DPMSolver:
            {
                float phi1 = sigmaT * (MathF.Exp(h) - 1f);
                var x = alphaT / alphaS0 * sample - phi1 * d0;
                return midpoint ? x - 0.5f * phi1 * d1 : x - sigmaT * ((MathF.Exp(h) - 1f) / h - 1f) * d1;
            }
            case DPMSolverAlgorithmType.SdeDPMSolverPlusPlus:
            {
                float phi1 = alphaT * (1f - MathF.Exp(-2f * h));
                var x = sigmaT / sigmaS0 * MathF.Exp(-h) * sample + phi1 * d0;
                x = midpoint ? x + 0.5f * phi1 * d1 : x + alphaT * ((1f - MathF.Exp(-2f * h)) / (-2f * h) + 1f) * d1;
                return x + sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)) * noise!;
            }
            default: // sde-dpmsolver
            {
                var x = alphaT / alphaS0 * sample - 2f * (sigmaT * (MathF.Exp(h) - 1f)) * d0;
                x = midpoint ? x - sigmaT * (MathF.Exp(h) - 1f) * d1 : x - 2f * (sigmaT * ((MathF.Exp(h) - 1f) / h - 1f)) * d1;
                return x + sigmaT * MathF.Sqrt(MathF.Exp(2f * h) - 1f) * noise!;
            }
        }
    }

    /// <summary>Multistep DPM-Solver-3 (Lu et al. 2022b, appendix; Lu et al. 2022, eq. 3.12 for the noise form).</summary>
    Tensor ThirdOrderUpdate(Tensor sample, Tensor? noise)
    {
        int s = core.StepIndex;
        var (alphaT, sigmaT) = core.AlphaSigma(s + 1);
        var (alphaS0, sigmaS0) = core.AlphaSigma(s);
        float lambdaT = core.Lambda(s + 1), lambdaS0 = core.Lambda(s), lambdaS1 = core.Lambda(s - 1), lambdaS2 = core.Lambda(s - 2);
        Tensor m0 = core.Output(0)!, m1 = core.Output(1)!, m2 = core.Output(2)!;
        float h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1, h1 = lambdaS1 - lambdaS2;
        float r0 = h0 / h, r1 = h1 / h;
        var d0 = m0;
        Tensor d10 = 1f / r0 * (m0 - m1), d11 = 1f / r1 * (m1 - m2);
        var d1 = d10 + r0 / (r0 + r1) * (d10 - d11);
        var d2 = 1f / (r0 + r1) * (d10 - d11);
        switch (Config.AlgorithmType)
        {
            case DPMSolverAlgorithmType.DPMSolverPlusPlus:
                return sigmaT / sigmaS0 * sample
                       - alphaT * (MathF.Exp(-h) - 1f) * d0
                       + alphaT * ((MathF.Exp(-h) - 1f) / h + 1f) * d1
                       - alphaT * ((MathF.Exp(-h) - 1f + h) / (h * h) - 0.5f) * d2;
            case DPMSolverAlgorithmType.DPMSolver:
                return alphaT / alphaS0 * sample
                       - sigmaT * (MathF.Exp(h) - 1f) * d0
                       - sigmaT * ((MathF.Exp(h) - 1f) / h - 1f) * d1
                       - sigmaT * ((MathF.Exp(h) - 1f - h) / (h * h) - 0.5f) * d2;
            case DPMSolverAlgorithmType.SdeDPMSolverPlusPlus:
                return sigmaT / sigmaS0 * MathF.Exp(-h) * sample
                       + alphaT * (1f - MathF.Exp(-2f * h)) * d0
                       + alphaT * ((1f - MathF.Exp(-2f * h)) / (-2f * h) + 1f) * d1
                       + alphaT * ((1f - MathF.Exp(-2f * h) - 2f * h) / ((2f * h) * (2f * h)) - 0.5f) * d2
                       + sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)) * noise!;
            default:
                throw new InvalidOperationException("unreachable: sde-dpmsolver with solver_order 3 is rejected by the constructor");
        }
    }

    /// <inheritdoc/>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => core.AddNoise(originalSamples, noise, timesteps);
}
