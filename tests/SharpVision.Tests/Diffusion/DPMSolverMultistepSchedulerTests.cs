using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class DPMSolverMultistepSchedulerTests
{
    static DPMSolverMultistepScheduler Create(string options = "") => SolverSchedulerChecks.Create<DPMSolverMultistepScheduler>(options);

    [Fact]
    public void UnknownAlgorithmType_IsRejectedWithTheAllowedValues() =>
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpm++"}""",
            "algorithm_type", "dpmsolver", "dpmsolver++", "sde-dpmsolver", "sde-dpmsolver++");

    [Fact]
    public void UnknownSolverTypeAndFinalSigmas_AreRejected()
    {
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "DPMSolverMultistepScheduler", "solver_type": "bh2"}""", "solver_type", "midpoint", "heun");
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "DPMSolverMultistepScheduler", "final_sigmas_type": "min"}""", "final_sigmas_type", "zero", "sigma_min");
    }

    [Fact]
    public void FinalSigmaZero_NeedsADataPredictionAlgorithm() =>
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpmsolver"}""",
            "final_sigmas_type", "dpmsolver++", "sigma_min");

    [Theory]
    [InlineData("use_flow_sigmas")]
    [InlineData("use_dynamic_shifting")]
    [InlineData("use_beta_sigmas")]
    public void FlowMatchingAndBetaSigmas_AreRejected(string key) =>
        SolverSchedulerChecks.AssertRejected($$"""{"_class_name": "DPMSolverMultistepScheduler", "{{key}}": true}""", key, "not supported");

    [Fact]
    public void SolverOrderOutOfRange_IsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Create(""", "solver_order": 4"""));
        Assert.Equal("solver_order", e.ParamName);
    }

    [Fact]
    public void StepBeforeSetTimesteps_Throws() => SolverSchedulerChecks.AssertStepNeedsTimesteps(Create());

    [Fact]
    public void LongerLoops_KeepTheLiveTensorCountFlat() => SolverSchedulerChecks.AssertLiveCountFlat(Create(""", "solver_order": 3"""));

    [Theory]
    [InlineData("dpmsolver++", 2)]
    [InlineData("dpmsolver++", 3)]
    [InlineData("sde-dpmsolver++", 2)]
    public void SetTimesteps_ResetsTheHistory_SoTwoLoopsAgree(string algorithm, int order) =>
        SolverSchedulerChecks.AssertLoopsRepeat(Create($$""", "algorithm_type": "{{algorithm}}", "solver_order": {{order}}"""), 12);

    [Fact]
    public void OrderIsOne_AndTheDefaultsAreDiffusers()
    {
        var s = Create();
        Assert.Equal(1, s.Order);
        Assert.Equal(DPMSolverAlgorithmType.DPMSolverPlusPlus, s.Config.AlgorithmType);
        Assert.True(double.IsNegativeInfinity(s.Config.LambdaMinClipped));
        // -inf is written back the way Python's json writes it, so diffusers reads a float.
        Assert.Contains("\"lambda_min_clipped\": -Infinity", s.Config.ToJson());
    }

    [Fact]
    public void PythonNonFiniteLiterals_AreReadOutsideStringsOnly()
    {
        var config = SchedulerFactory.ReadConfig("""{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "note": "NaN or -Infinity"}""");
        Assert.True(double.IsNegativeInfinity(((DPMSolverMultistepSchedulerConfig)config).LambdaMinClipped));
        Assert.Contains("\"note\": \"NaN or -Infinity\"", config.ToJson());
    }

    [Fact]
    public void LambdaMinClipped_DropsTheNoisiestTimesteps()
    {
        var clipped = Create(""", "beta_schedule": "squaredcos_cap_v2", "lambda_min_clipped": -5.1""");
        var full = Create(""", "beta_schedule": "squaredcos_cap_v2" """);
        clipped.SetTimesteps(10);
        full.SetTimesteps(10);
        Assert.Equal(999, full.Timesteps[0]);
        Assert.True(clipped.Timesteps[0] < 999, $"first timestep {clipped.Timesteps[0]}");
        // The clipped schedule's noisiest level has lambda = log(1 / sigma) >= -5.1.
        Assert.True(-Math.Log(clipped.Sigmas![0]) >= -5.1 - 1e-3);
    }

    [Fact]
    public void FinalSigmasType_SetsTheLastLevel()
    {
        var zero = Create();
        var min = Create(""", "final_sigmas_type": "sigma_min", "euler_at_final": true""");
        zero.SetTimesteps(8);
        min.SetTimesteps(8);
        Assert.Equal(0.0, zero.Sigmas![^1]);
        Assert.True(min.Sigmas![^1] > 0 && min.Sigmas[^1] < min.Sigmas[^2]);
    }

    [Fact]
    public void GivenNoise_DrivesTheSdeStep()
    {
        var s = Create(""", "algorithm_type": "sde-dpmsolver++" """);
        s.SetTimesteps(5);
        var x = ones(1, 3, 4, 4);
        var a = s.Step(zeros_like(x), s.Timesteps[0], x, noise: zeros_like(x)).PrevSample;
        s.SetTimesteps(5);
        var b = s.Step(zeros_like(x), s.Timesteps[0], x, noise: ones_like(x)).PrevSample;
        Assert.True((b - a).abs().min().item<float>() > 1e-3, "the noise did not reach the sample");
    }
}
