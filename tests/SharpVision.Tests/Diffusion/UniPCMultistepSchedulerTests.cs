using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class UniPCMultistepSchedulerTests
{
    static UniPCMultistepScheduler Create(string options = "") => SolverSchedulerChecks.Create<UniPCMultistepScheduler>(options);

    [Fact]
    public void UnknownSolverType_IsRejectedWithTheAllowedValues() =>
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "UniPCMultistepScheduler", "solver_type": "bh3"}""", "solver_type", "bh1", "bh2");

    [Fact]
    public void SolverPAndShiftTerminal_AreRejected()
    {
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "UniPCMultistepScheduler", "solver_p": {"_class_name": "DDIMScheduler"}}""", "solver_p", "null");
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "UniPCMultistepScheduler", "shift_terminal": 0.1}""", "shift_terminal", "use_flow_sigmas");
    }

    [Fact]
    public void SwitchingFromDPMSolver_TakesItsScheduleAndMapsTheSolverType()
    {
        var dpm = SolverSchedulerChecks.Create<DPMSolverMultistepScheduler>(""", "beta_schedule": "scaled_linear", "solver_type": "heun", "use_karras_sigmas": true""");
        var unipc = (UniPCMultistepScheduler)SchedulerFactory.Switch(dpm.Config, "UniPCMultistepScheduler");
        Assert.Equal(UniPCSolverType.Bh2, unipc.Config.SolverType);
        Assert.Equal(BetaSchedule.ScaledLinear, unipc.Config.BetaSchedule);
        Assert.True(unipc.Config.UseKarrasSigmas);
        var deis = (DEISMultistepScheduler)SchedulerFactory.Switch(unipc.Config, "DEISMultistepScheduler");
        Assert.Equal(DEISSolverType.Logrho, deis.Config.SolverType);
        var back = (DPMSolverMultistepScheduler)SchedulerFactory.Switch(deis.Config, "DPMSolverMultistepScheduler");
        Assert.Equal(DPMSolverAlgorithmType.DPMSolverPlusPlus, back.Config.AlgorithmType);
        Assert.Equal(DPMSolverType.Midpoint, back.Config.SolverType);
    }

    [Fact]
    public void StepBeforeSetTimesteps_Throws() => SolverSchedulerChecks.AssertStepNeedsTimesteps(Create());

    [Fact]
    public void LongerLoops_KeepTheLiveTensorCountFlat() => SolverSchedulerChecks.AssertLiveCountFlat(Create(""", "solver_order": 3"""));

    [Theory]
    [InlineData("bh1", 2)]
    [InlineData("bh2", 3)]
    public void SetTimesteps_ResetsTheHistory_SoTwoLoopsAgree(string solver, int order) =>
        SolverSchedulerChecks.AssertLoopsRepeat(Create($$""", "solver_type": "{{solver}}", "solver_order": {{order}}"""), 9);

    [Fact]
    public void DisableCorrector_SkipsTheCorrection()
    {
        var corrected = SolverSchedulerChecks.RunLoop(Create(), 6);
        var uncorrected = SolverSchedulerChecks.RunLoop(Create(""", "disable_corrector": [0, 1, 2, 3, 4]"""), 6);
        Assert.Equal(1, Create().Order);
        Assert.True((corrected - uncorrected).abs().max().item<float>() > 1e-4, "disable_corrector changed nothing");
    }

    [Fact]
    public void Bh1WithAZeroFinalSigma_EndsOnTheDataPrediction_NotNaN()
    {
        // diffusers multiplies B(h) = -inf by an absent (zero) residual at the last step and returns NaN; the limit is x_0.
        var s = Create(""", "solver_type": "bh1" """);
        s.SetTimesteps(4);
        var x = ones(1, 3, 4, 4);
        SchedulerOutput? last = null;
        foreach (double t in s.Timesteps) { last = s.Step(0.1 * x, t, x); x = last.PrevSample; }
        Assert.True(x.isfinite().all().item<bool>());
        Assert.Equal(last!.PredOriginalSample!.data<float>().ToArray(), x.data<float>().ToArray());
    }
}
