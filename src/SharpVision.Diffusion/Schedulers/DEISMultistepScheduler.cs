namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// DEIS, the diffusion exponential integrator sampler (Zhang and Chen 2022, https://arxiv.org/abs/2204.13902): the
/// exact linear part of the probability-flow ODE plus a Lagrange polynomial extrapolation of epsilon over the
/// previous steps in log rho, rho = sigma / alpha. Follows diffusers 0.40 <c>schedulers/scheduling_deis_multistep.py</c>.
/// </summary>
/// <remarks>
/// Flow-matching sigmas, dynamic shifting and beta sigmas are rejected. With Karras or exponential sigmas the final
/// level repeats the last (a zero-length step), as in diffusers.
/// <list type="table">
/// <listheader><term>variable</term><description>symbol (paper, section 4, "tAB-DEIS")</description></listheader>
/// <item><term>rhoT, rhoS0, rhoS1, rhoS2</term><description>rho = sigma_t / alpha_t at t and the last three steps</description></item>
/// <item><term>m0, m1, m2</term><description>epsilon at those steps, newest first</description></item>
/// <item><term>coef1..3</term><description>the integrals of the Lagrange basis polynomials in log rho from rho_s0 to rho_t</description></item>
/// </list>
/// </remarks>
public sealed class DEISMultistepScheduler : ExponentialSolverScheduler<DEISMultistepSchedulerConfig>
{


    /// <exception cref="ArgumentException">An option is undefined or unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or solver_order out of range.</exception>
    public DEISMultistepScheduler(DEISMultistepSchedulerConfig? config = null)
        : base(config ?? new DEISMultistepSchedulerConfig(), nameof(DEISMultistepScheduler))
    {
        SchedulerOptions.RequireDefined(Config.AlgorithmType);
        SchedulerOptions.RequireDefined(Config.SolverType);
        SchedulerOptions.RequireDefined(Config.TimestepSpacing);
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static DEISMultistepScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<DEISMultistepSchedulerConfig>(path));

    /// <summary>Spaces N timesteps and their sigmas (final: the training sigma_min, or the last converted level repeated); clears the history.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public override void SetTimesteps(int numInferenceSteps)
    {
        NoiseSchedule.RequireStepCount(numInferenceSteps, Config.NumTrainTimesteps);
        var spaced = SolverSchedule.SpacedTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset);
        var spacing = ConvertedSpacing;
        var (ts, sigmas) = Core.Schedule(spaced, spacing, roundConverted: true);
        Core.SetSchedule(ts, sigmas, spacing == SolverSigmaSpacing.Training ? Core.TrainSigmas[0] : sigmas[^1]);
    }



    /// <summary>One DEIS step of order 1 during warm-up and (with lower_order_final below 15 steps) at the end, else solver_order.</summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction at <paramref name="timestep"/>.</param>
    /// <param name="timestep">The current entry of <c>Timesteps</c>.</param>
    /// <param name="sample">(B, C, H, W) the current sample.</param>
    /// <param name="noise">Unused (DEIS is deterministic).</param>
    /// <param name="generator">Unused.</param>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called, or the loop is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        Core.BeginStep(modelOutput, timestep, sample, noise: null, learnedVariance: false);
        using var scope = torch.NewDisposeScope();
        int i = Core.StepIndex, n = Core.TimestepCount;
        bool lowerOrderFinal = i == n - 1 && Config.LowerOrderFinal && n < 15;
        bool lowerOrderSecond = i == n - 2 && Config.LowerOrderFinal && n < 15;

        // epsilon, re-derived from the (possibly thresholded) x_0.
        var x0 = Core.DataPrediction(modelOutput, sample);
        var (alphaT, sigmaT) = Core.AlphaSigma(i);
        var epsilon = (sample - alphaT * x0) / sigmaT;
        Core.Push(epsilon, modelOutput, sample);

        Tensor prev;
        if (Config.SolverOrder == 1 || Core.LowerOrderNums < 1 || lowerOrderFinal)
            prev = Core.FirstOrderUpdate(epsilon, sample, dataPrediction: false, sde: false, noise: null);
        else if (Config.SolverOrder == 2 || Core.LowerOrderNums < 2 || lowerOrderSecond)
            prev = SecondOrderUpdate(sample);
        else
            prev = ThirdOrderUpdate(sample);
        Core.EndStep();
        return new SchedulerOutput(prev.MoveToOuterDisposeScope(), NoiseSchedule.Escape(x0, modelOutput, sample));
    }

    /// <summary>rho = sigma_t / alpha_t at schedule entry <paramref name="index"/>.</summary>
    float Rho(int index)
    {
        var (alpha, sigma) = Core.AlphaSigma(index);
        return sigma / alpha;
    }

    /// <summary>Second order: x_t = alpha_t (x_s0 / alpha_s0 + coef1 m0 + coef2 m1), linear Lagrange basis in log rho.</summary>
    Tensor SecondOrderUpdate(Tensor sample)
    {
        int s = Core.StepIndex;
        float alphaT = Core.AlphaSigma(s + 1).Alpha, alphaS0 = Core.AlphaSigma(s).Alpha;
        float rhoT = Rho(s + 1), rhoS0 = Rho(s), rhoS1 = Rho(s - 1);
        // Antiderivative of the basis polynomial through (log b) vanishing at (log c), times rho.
        static float Ind(float t, float b, float c) => t * (-MathF.Log(c) + MathF.Log(t) - 1f) / (MathF.Log(b) - MathF.Log(c));
        float coef1 = Ind(rhoT, rhoS0, rhoS1) - Ind(rhoS0, rhoS0, rhoS1);
        float coef2 = Ind(rhoT, rhoS1, rhoS0) - Ind(rhoS0, rhoS1, rhoS0);
        return alphaT * (sample / alphaS0 + coef1 * Core.Output(0)! + coef2 * Core.Output(1)!);
    }

    /// <summary>Third order: the quadratic Lagrange basis in log rho over the last three steps.</summary>
    Tensor ThirdOrderUpdate(Tensor sample)
    {
        int s = Core.StepIndex;
        float alphaT = Core.AlphaSigma(s + 1).Alpha, alphaS0 = Core.AlphaSigma(s).Alpha;
        float rhoT = Rho(s + 1), rhoS0 = Rho(s), rhoS1 = Rho(s - 1), rhoS2 = Rho(s - 2);
        static float Ind(float t, float b, float c, float d)
        {
            float lt = MathF.Log(t), lb = MathF.Log(b), lc = MathF.Log(c), ld = MathF.Log(d);
            float numerator = t * (lc * (ld - lt + 1f) - ld * lt + ld + lt * lt - 2f * lt + 2f);
            return numerator / ((lb - lc) * (lb - ld));
        }
        float coef1 = Ind(rhoT, rhoS0, rhoS1, rhoS2) - Ind(rhoS0, rhoS0, rhoS1, rhoS2);
        float coef2 = Ind(rhoT, rhoS1, rhoS2, rhoS0) - Ind(rhoS0, rhoS1, rhoS2, rhoS0);
        float coef3 = Ind(rhoT, rhoS2, rhoS0, rhoS1) - Ind(rhoS0, rhoS2, rhoS0, rhoS1);
        return alphaT * (sample / alphaS0 + coef1 * Core.Output(0)! + coef2 * Core.Output(1)! + coef3 * Core.Output(2)!);
    }
}
