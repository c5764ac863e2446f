namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// DPM-Solver's second- and third-order update formulas from a start point s to t, shared by the multistep and
/// singlestep schedulers (which differ only in which sample, noise levels and divided differences they pass).
/// Scalars in float32 as diffusers' 0-dim tensors; tensor terms added in diffusers' order.
/// </summary>
/// <remarks>
/// Data prediction (DPM-Solver++, Lu et al. 2022b, eq. 9 and appendix B) with phi_1 = e^-h - 1:
/// <c>x_t = (sigma_t/sigma_s) x_s - alpha_t phi_1 D0 + alpha_t (phi_1/h + 1) D1 - alpha_t ((phi_1 + h)/h^2 - 1/2) D2</c>;
/// noise prediction (DPM-Solver, Lu et al. 2022, eq. 3.11-3.12) with e^h - 1 in place of -phi_1 and sigma for alpha;
/// the SDE variants with e^-2h (Lu et al. 2022b, section 5) plus sigma_t sqrt(1 - e^-2h) z. The midpoint rule
/// weights D1 by 1/2 of the first-order coefficient.
/// </remarks>
internal static class DPMSolverUpdates
{
    /// <summary>DPM-Solver++ and its SDE form solve in x_0; DPM-Solver and its SDE form in epsilon.</summary>
    public static bool IsDataPrediction(DPMSolverAlgorithmType algorithm) =>
        algorithm is DPMSolverAlgorithmType.DPMSolverPlusPlus or DPMSolverAlgorithmType.SdeDPMSolverPlusPlus;

    /// <summary>Whether the model's output carries a variance after the noise (only its first 3 channels are used).</summary>
    public static bool IsLearned(DDPMVarianceType? varianceType) =>
        varianceType is DDPMVarianceType.Learned or DDPMVarianceType.LearnedRange;

    /// <summary>The option checks both DPM-Solver schedulers make.</summary>
    /// <exception cref="ArgumentException">An undefined option, or final_sigmas_type zero with a noise-prediction algorithm.</exception>
    public static void RequireValid(DPMSolverAlgorithmType algorithm, DPMSolverType solverType, FinalSigmasType finalSigmas, DDPMVarianceType? varianceType)
    {
        SchedulerOptions.RequireDefined(algorithm);
        SchedulerOptions.RequireDefined(solverType);
        SchedulerOptions.RequireDefined(finalSigmas);
        if (varianceType is { } v) SchedulerOptions.RequireDefined(v);
        if (!IsDataPrediction(algorithm) && finalSigmas == FinalSigmasType.Zero)
            throw new ArgumentException(
                $"final_sigmas_type zero needs algorithm_type dpmsolver++ or sde-dpmsolver++; got {SchedulerOptions.ToConfigString(algorithm)} (use sigma_min)",
                "final_sigmas_type");
    }

    /// <param name="d0">(B, C, H, W) the zeroth divided difference (the model output at the start point).</param>
    /// <param name="d1">(B, C, H, W) the first divided difference.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise for the SDE algorithms.</param>
    public static Tensor SecondOrder(DPMSolverAlgorithmType algorithm, bool midpoint, Tensor sample, (float Alpha, float Sigma) t,
        (float Alpha, float Sigma) s, float h, Tensor d0, Tensor d1, Tensor? noise)
    {
        var ((alphaT, sigmaT), (alphaS, sigmaS)) = (t, s);
        switch (algorithm)
        {
            case DPMSolverAlgorithmType.DPMSolverPlusPlus:
            {
                float phi1 = alphaT * (MathF.Exp(-h) - 1f);
                var x = sigmaT / sigmaS * sample - phi1 * d0;
                return midpoint ? x - 0.5f * phi1 * d1 : x + alphaT * ((MathF.Exp(-h) - 1f) / h + 1f) * d1;
            }
            case DPMSolverAlgorithmType.DPMSolver:
            {
                float phi1 = sigmaT * (MathF.Exp(h) - 1f);
                var x = alphaT / alphaS * sample - phi1 * d0;
                return midpoint ? x - 0.5f * phi1 * d1 : x - sigmaT * ((MathF.Exp(h) - 1f) / h - 1f) * d1;
            }
            case DPMSolverAlgorithmType.SdeDPMSolverPlusPlus:
            {
                float phi1 = alphaT * (1f - MathF.Exp(-2f * h));
                var x = sigmaT / sigmaS * MathF.Exp(-h) * sample + phi1 * d0;
                x = midpoint ? x + 0.5f * phi1 * d1 : x + alphaT * ((1f - MathF.Exp(-2f * h)) / (-2f * h) + 1f) * d1;
                return x + sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)) * noise!;
            }
            default: // sde-dpmsolver
            {
                var x = alphaT / alphaS * sample - 2f * (sigmaT * (MathF.Exp(h) - 1f)) * d0;
                x = midpoint ? x - sigmaT * (MathF.Exp(h) - 1f) * d1 : x - 2f * (sigmaT * ((MathF.Exp(h) - 1f) / h - 1f)) * d1;
                return x + sigmaT * MathF.Sqrt(MathF.Exp(2f * h) - 1f) * noise!;
            }
        }
    }

    /// <summary>The third-order form; without <paramref name="d2"/> (singlestep midpoint) its last term is left out.</summary>
    /// <exception cref="ArgumentException">sde-dpmsolver, which has no third-order form.</exception>
    public static Tensor ThirdOrder(DPMSolverAlgorithmType algorithm, Tensor sample, (float Alpha, float Sigma) t,
        (float Alpha, float Sigma) s, float h, Tensor d0, Tensor d1, Tensor? d2, Tensor? noise)
    {
        var ((alphaT, sigmaT), (alphaS, sigmaS)) = (t, s);
        switch (algorithm)
        {
            case DPMSolverAlgorithmType.DPMSolverPlusPlus:
            {
                var x = sigmaT / sigmaS * sample - alphaT * (MathF.Exp(-h) - 1f) * d0 + alphaT * ((MathF.Exp(-h) - 1f) / h + 1f) * d1;
                return d2 is null ? x : x - alphaT * ((MathF.Exp(-h) - 1f + h) / (h * h) - 0.5f) * d2;
            }
            case DPMSolverAlgorithmType.DPMSolver:
            {
                var x = alphaT / alphaS * sample - sigmaT * (MathF.Exp(h) - 1f) * d0 - sigmaT * ((MathF.Exp(h) - 1f) / h - 1f) * d1;
                return d2 is null ? x : x - sigmaT * ((MathF.Exp(h) - 1f - h) / (h * h) - 0.5f) * d2;
            }
            case DPMSolverAlgorithmType.SdeDPMSolverPlusPlus:
            {
                var x = sigmaT / sigmaS * MathF.Exp(-h) * sample + alphaT * (1f - MathF.Exp(-2f * h)) * d0
                        + alphaT * ((1f - MathF.Exp(-2f * h)) / (-2f * h) + 1f) * d1;
                if (d2 is not null) x = x + alphaT * ((1f - MathF.Exp(-2f * h) - 2f * h) / (2f * h * (2f * h)) - 0.5f) * d2;
                return x + sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h)) * noise!;
            }
            default:
                throw new ArgumentException("algorithm_type sde-dpmsolver has no third-order update", nameof(algorithm));
        }
    }
}
