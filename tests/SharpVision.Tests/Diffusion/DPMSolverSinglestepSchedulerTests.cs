using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class DPMSolverSinglestepSchedulerTests
{
    static DPMSolverSinglestepScheduler Create(string options = "") => SolverSchedulerChecks.Create<DPMSolverSinglestepScheduler>(options);

    [Fact]
    public void SdeDPMSolver_HasNoSinglestepForm() =>
        SolverSchedulerChecks.AssertRejected("""{"_class_name": "DPMSolverSinglestepScheduler", "algorithm_type": "sde-dpmsolver"}""",
            "algorithm_type", "dpmsolver", "dpmsolver++", "sde-dpmsolver++");

    [Fact]
    public void StepBeforeSetTimesteps_Throws() => SolverSchedulerChecks.AssertStepNeedsTimesteps(Create());

    [Fact]
    public void LongerLoops_KeepTheLiveTensorCountFlat() => SolverSchedulerChecks.AssertLiveCountFlat(Create(""", "solver_order": 3"""));

    [Theory]
    [InlineData(2, 9)]
    [InlineData(3, 10)]
    public void SetTimesteps_ResetsTheHistory_SoTwoLoopsAgree(int order, int steps) =>
        SolverSchedulerChecks.AssertLoopsRepeat(Create($$""", "solver_order": {{order}}"""), steps);

    [Theory]
    // An odd count or a zero final sigma switches lower_order_final on, as diffusers' set_timesteps does.
    [InlineData(2, 7, "zero", new[] { 1, 2, 1, 2, 1, 2, 1 })]
    [InlineData(2, 6, "sigma_min", new[] { 1, 2, 1, 2, 1, 2 })]
    [InlineData(3, 9, "zero", new[] { 1, 2, 3, 1, 2, 3, 1, 2, 1 })]
    [InlineData(3, 8, "zero", new[] { 1, 2, 3, 1, 2, 3, 1, 1 })]
    public void OrderList_CutsTheScheduleIntoBlocks(int order, int steps, string finalSigmas, int[] expected)
    {
        var s = Create($$""", "solver_order": {{order}}, "final_sigmas_type": "{{finalSigmas}}" """);
        s.SetTimesteps(steps);
        Assert.Equal(1, s.Order);
        Assert.Equal(expected, s.OrderList);
    }
}
