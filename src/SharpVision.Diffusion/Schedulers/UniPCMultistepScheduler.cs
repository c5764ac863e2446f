namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// UniPC (Zhao et al. 2023, https://arxiv.org/abs/2302.04867): a multistep predictor (UniP) whose result each next
/// step corrects (UniC) with the model output it has just computed, raising the order by one at no extra model
/// evaluation. Strong in 5 to 10 steps. Follows diffusers 0.40 <c>schedulers/scheduling_unipc_multistep.py</c>.
/// </summary>
/// <remarks>
/// <para><c>solver_p</c> (another scheduler as the predictor), flow-matching sigmas, dynamic shifting,
/// <c>shift_terminal</c> and beta sigmas are rejected; custom <c>sigmas=</c> are not offered.</para>
/// <para>One deliberate difference: with bh1 and a final sigma of zero, diffusers' last (first-order) step multiplies
/// B(h) = h = -inf by its zero residual and returns NaN everywhere; here a step without a residual leaves the term
/// out, which gives the limit, the data prediction x_0 (bh2, where B(h) = -1 there, agrees with diffusers).</para>
/// <list type="table">
/// <listheader><term>variable</term><description>symbol (paper, algorithms 1 and 2 with B(h))</description></listheader>
/// <item><term>hh</term><description>h (negated for the data prediction), the step in lambda</description></item>
/// <item><term>rks</term><description>r_k = (lambda_{s_k} - lambda_{s0}) / h, with r_K = 1</description></item>
/// <item><term>d1s</term><description>D_k = (m_{s_k} - m_{s0}) / r_k</description></item>
/// <item><term>hPhi1</term><description>h phi_1(h) = e^h - 1</description></item>
/// <item><term>bH</term><description>B(h): h (bh1) or e^h - 1 (bh2)</description></item>
/// <item><term>rhos</term><description>a_k of R_p(h) a_p = phi_p(h) / B(h), the linear system of eq. 8</description></item>
/// </list>
/// </remarks>
public sealed class UniPCMultistepScheduler : ExponentialSolverScheduler<UniPCMultistepSchedulerConfig>
{
    Tensor? lastSample;
    int thisOrder;


    /// <exception cref="ArgumentException">An option is undefined or unsupported (solver_p, shift_terminal, flow or beta sigmas).</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or solver_order out of range.</exception>
    public UniPCMultistepScheduler(UniPCMultistepSchedulerConfig? config = null)
        : base(config ?? new UniPCMultistepSchedulerConfig(), nameof(UniPCMultistepScheduler))
    {
        SchedulerOptions.RequireDefined(Config.SolverType);
        SchedulerOptions.RequireDefined(Config.FinalSigmasType);
        SchedulerOptions.RequireDefined(Config.TimestepSpacing);
        if (Config.SolverP is { ValueKind: not System.Text.Json.JsonValueKind.Null })
            throw new ArgumentException("solver_p (another scheduler as UniPC's predictor) is not supported; it must be null", "solver_p");
        if (Config.ShiftTerminal is not null)
            throw new ArgumentException("shift_terminal needs use_flow_sigmas, which is not supported; it must be null", "shift_terminal");
        ArgumentNullException.ThrowIfNull(Config.DisableCorrector, "disable_corrector");
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static UniPCMultistepScheduler FromConfigFile(string path) => new(SchedulerConfigJson.Load<UniPCMultistepSchedulerConfig>(path));

    /// <summary>
    /// Spaces N timesteps, takes their training sigmas (or a Karras / exponential schedule between sigma_min and
    /// sigma_max, mapped back to rounded timesteps) and appends the final sigma; clears the history.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    public override void SetTimesteps(int numInferenceSteps)
    {
        NoiseSchedule.RequireStepCount(numInferenceSteps, Config.NumTrainTimesteps);
        var spaced = SolverSchedule.SpacedTimesteps(Config.TimestepSpacing, Config.NumTrainTimesteps, Config.NumTrainTimesteps, numInferenceSteps, Config.StepsOffset);
        var spacing = ConvertedSpacing;
        var (ts, sigmas) = Core.Schedule(spaced, spacing, roundConverted: true, Config.SigmaMin, Config.SigmaMax);
        // sigma_min means the schedule's own last level for a converted schedule, the training sigma_min otherwise.
        double final = Config.FinalSigmasType == FinalSigmasType.Zero ? 0.0
            : spacing == SolverSigmaSpacing.Training ? Core.TrainSigmas[0] : sigmas[^1];
        Core.SetSchedule(ts, sigmas, final);
        lastSample?.Dispose();
        lastSample = null;
        thisOrder = 0;
    }



    /// <summary>
    /// One UniPC step: UniC corrects the sample the previous step predicted (using this step's model output), then
    /// UniP predicts the next sample from the corrected one with the history, at an order that warms up from 1 and,
    /// with lower_order_final, drops toward the end.
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction at <paramref name="timestep"/>.</param>
    /// <param name="timestep">The current entry of <c>Timesteps</c>.</param>
    /// <param name="sample">(B, C, H, W) the sample the previous step returned.</param>
    /// <param name="noise">Unused (UniPC is deterministic).</param>
    /// <param name="generator">Unused.</param>
    /// <returns>The predicted next sample, and x_0 when predict_x0.</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> has not been called, or the loop is done.</exception>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public override SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        Core.BeginStep(modelOutput, timestep, sample, noise: null, learnedVariance: false);
        using var scope = torch.NewDisposeScope();
        int i = Core.StepIndex;

        // 1. This step's model output in the solver's variable.
        var converted = Config.PredictX0 ? Core.DataPrediction(modelOutput, sample) : Core.NoisePrediction(modelOutput, sample, threshold: false);

        // 2. UniC: correct the previous prediction with it (at the previous step's order).
        bool useCorrector = i > 0 && !Config.DisableCorrector.Contains(i - 1) && lastSample is not null;
        var x = useCorrector ? CorrectorUpdate(converted, lastSample!, sample, thisOrder) : sample;

        // 3. History, and this step's order: warm-up, then lower near the end.
        Core.Push(converted, modelOutput, sample);
        int order = Config.LowerOrderFinal ? Math.Min(Config.SolverOrder, Core.TimestepCount - i) : Config.SolverOrder;
        thisOrder = Math.Min(order, Core.LowerOrderNums + 1);
        lastSample?.Dispose();
        lastSample = ExponentialSolverCore.Keep(x, modelOutput, sample);

        // 4. UniP: predict the next sample.
        var prev = PredictorUpdate(x, thisOrder);
        Core.EndStep();
        return new SchedulerOutput(prev.MoveToOuterDisposeScope(), Config.PredictX0 ? converted.alias().MoveToOuterDisposeScope() : null);
    }

    /// <summary>UniP-p with B(h) (paper, algorithm 2): from x at s0 = the current entry to t = the next.</summary>
    Tensor PredictorUpdate(Tensor x, int order)
    {
        int s = Core.StepIndex;
        var m0 = Core.Output(0)!;
        var (rks, d1s, h) = Differences(s, s + 1, order, m0, back => s - back, back => Core.Output(back)!);
        var (r, b, hPhi1, bH) = Coefficients(rks, h);
        Tensor? rhos = order switch
        {
            1 => null,
            2 => torch.ones(1, dtype: x.dtype) * 0.5f,
            _ => torch.linalg.solve(r.narrow(0, 0, order - 1).narrow(1, 0, order - 1), b.narrow(0, 0, order - 1)).to(x.dtype),
        };
        var residual = rhos is null ? null : torch.einsum("k,bkc...->bc...", rhos, torch.stack(d1s, dim: 1));
        return Combine(x, s, s + 1, m0, hPhi1, bH, residual);
    }

    /// <summary>UniC-p with B(h) (paper, algorithm 1): re-takes the previous step from its start with this step's output.</summary>
    Tensor CorrectorUpdate(Tensor modelT, Tensor last, Tensor predicted, int order)
    {
        int s = Core.StepIndex;
        var m0 = Core.Output(0)!; // the previous step's output (the history is not yet shifted)
        var (rks, d1s, h) = Differences(s - 1, s, order, m0, back => s - (back + 1), back => Core.Output(back)!);
        var (r, b, hPhi1, bH) = Coefficients(rks, h);
        var rhos = order == 1 ? torch.ones(1, dtype: predicted.dtype) * 0.5f : torch.linalg.solve(r, b).to(predicted.dtype);
        var d1t = modelT - m0;
        var last1 = rhos[order - 1] * d1t;
        var correction = d1s.Length > 0
            ? torch.einsum("k,bkc...->bc...", rhos.narrow(0, 0, order - 1), torch.stack(d1s, dim: 1)) + last1
            : last1;
        return Combine(last, s - 1, s, m0, hPhi1, bH, correction);
    }

    /// <summary>h = lambda_t - lambda_s0 and, for k &lt; order, r_k and D_k from the history (r_K = 1 appended).</summary>
    (Tensor Rks, Tensor[] D1s, float H) Differences(int s0, int t, int order, Tensor m0, Func<int, int> indexBack, Func<int, Tensor> outputBack)
    {
        float lambdaS0 = Core.Lambda(s0);
        float h = Core.Lambda(t) - lambdaS0;
        var rks = new float[order];
        var d1s = new Tensor[order - 1];
        for (int k = 1; k < order; k++)
        {
            float rk = (Core.Lambda(indexBack(k)) - lambdaS0) / h;
            rks[k - 1] = rk;
            d1s[k - 1] = (outputBack(k) - m0) / rk;
        }
        rks[^1] = 1f;
        return (torch.tensor(rks), d1s, h);
    }

    /// <summary>The Vandermonde matrix R (rows r^(i-1)), the right side b_i = phi_i(h) i! / B(h), h phi_1(h) and B(h), in float32.</summary>
    (Tensor R, Tensor B, float HPhi1, float BH) Coefficients(Tensor rks, float h)
    {
        int order = (int)rks.shape[0];
        float hh = Config.PredictX0 ? -h : h;
        float hPhi1 = Expm1(hh);
        float hPhiK = hPhi1 / hh - 1f;
        float bH = Config.SolverType == UniPCSolverType.Bh1 ? hh : Expm1(hh);
        var rows = new Tensor[order];
        var b = new float[order];
        long factorial = 1;
        for (int i = 1; i <= order; i++)
        {
            rows[i - 1] = torch.pow(rks, i - 1);
            b[i - 1] = hPhiK * factorial / bH;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - (float)(1.0 / factorial);
        }
        return (torch.stack(rows), torch.tensor(b), hPhi1, bH);
    }

    /// <summary>
    /// x_t = (sigma_t / sigma_s0) x - alpha_t h phi_1 m0 - alpha_t B(h) residual for the data prediction,
    /// (alpha_t / alpha_s0) x - sigma_t h phi_1 m0 - sigma_t B(h) residual for the noise prediction.
    /// </summary>
    Tensor Combine(Tensor x, int s0, int t, Tensor m0, float hPhi1, float bH, Tensor? residual)
    {
        var (alphaT, sigmaT) = Core.AlphaSigma(t);
        var (alphaS0, sigmaS0) = Core.AlphaSigma(s0);
        var (scale, weight) = Config.PredictX0 ? (sigmaT / sigmaS0, alphaT) : (alphaT / alphaS0, sigmaT);
        var xt = scale * x - weight * hPhi1 * m0;
        return residual is null ? xt : xt - weight * bH * residual;
    }

    /// <summary>e^x - 1 accurate near 0 (torch.expm1), rounded to float32.</summary>
    static float Expm1(float x)
    {
        double d = x;
        return (float)(Math.Abs(d) < 1e-5 ? d + d * d / 2 + d * d * d / 6 : Math.Exp(d) - 1);
    }
}
