using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class DEISMultistepSchedulerTests
{
    static DEISMultistepScheduler Create(string options = "") => SolverSchedulerChecks.Create<DEISMultistepScheduler>(options);

    [Fact]
    public void OtherAlgorithmAndSolverTypes_AreRejectedWithTheAllowedValues()
    {
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "DEISMultistepScheduler", "algorithm_type": "dpmsolver++"}""", "algorithm_type", "deis");
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "DEISMultistepScheduler", "solver_type": "midpoint"}""", "solver_type", "logrho");
    }

    [Fact]
    public void StepBeforeSetTimesteps_Throws() => SolverSchedulerChecks.AssertStepNeedsTimesteps(Create());

    [Fact]
    public void LongerLoops_KeepTheLiveTensorCountFlat() => SolverSchedulerChecks.AssertLiveCountFlat(Create(""", "solver_order": 3"""));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SetTimesteps_ResetsTheHistory_SoTwoLoopsAgree(int order) =>
        SolverSchedulerChecks.AssertLoopsRepeat(Create($$""", "solver_order": {{order}}"""), 10);

    [Fact]
    public void ConvertedSchedules_RepeatTheLastLevel()
    {
        var s = Create(""", "use_karras_sigmas": true""");
        s.SetTimesteps(6);
        Assert.Equal(1, s.Order);
        Assert.Equal(7, s.Sigmas!.Count);
        Assert.Equal(s.Sigmas[^2], s.Sigmas[^1]);
        Assert.Equal(6, s.Timesteps.Distinct().Count());
    }
}
