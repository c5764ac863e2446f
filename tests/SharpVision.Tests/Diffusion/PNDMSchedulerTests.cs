using SharpVision.Diffusion.Schedulers;
using static SharpVision.Tests.Diffusion.SchedulerTestTensors;

namespace SharpVision.Tests.Diffusion;

public sealed class PNDMSchedulerTests
{
    static PNDMScheduler Plms(PredictionType prediction = PredictionType.Epsilon) => new(new PNDMSchedulerConfig
    {
        BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.00085, BetaEnd = 0.012,
        SkipPrkSteps = true, StepsOffset = 1, PredictionType = prediction,
    });

    static PNDMScheduler Prk() => new(new PNDMSchedulerConfig());

    /// <summary>A whole loop with seeded model outputs; with <paramref name="scoped"/> every step's inputs are freed right after it.</summary>
    static List<Tensor> Loop(PNDMScheduler s, int steps, bool scoped = false)
    {
        s.SetTimesteps(steps);
        Assert.Equal(0, s.Counter);
        var x = Randn(1);
        var samples = new List<Tensor>();
        for (int k = 0; k < s.Timesteps.Count; k++)
        {
            using var scope = NewDisposeScope();
            var next = s.Step(Randn(100 + k), s.Timesteps[k], x).PrevSample.MoveToOuterDisposeScope();
            if (scoped) x.Dispose();
            x = next;
            samples.Add(x.clone().MoveToOuterDisposeScope());
        }
        Assert.Equal(s.Timesteps.Count, s.Counter);
        return samples;
    }

    static void AssertSameLoop(List<Tensor> expected, List<Tensor> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int k = 0; k < expected.Count; k++)
            Assert.True(Same(expected[k], actual[k]), $"step {k} differs");
    }

    [Fact]
    public void Order_IsOne_AndTheScheduleHasOneEntryPerModelEvaluation()
    {
        var plms = Plms();
        var prk = Prk();
        Assert.Equal(1, plms.Order);
        Assert.Equal(1, ((IDiffusionScheduler)prk).Order);
        plms.SetTimesteps(20);
        prk.SetTimesteps(10);
        Assert.Equal(21, plms.Timesteps.Count); // the warm-up's second timestep twice
        Assert.Equal(3 * PNDMScheduler.PndmOrder + 10 - 3, prk.Timesteps.Count);
        Assert.Equal(prk.PrkTimesteps.Count + prk.PlmsTimesteps.Count, prk.Timesteps.Count);
    }

    [Fact]
    public void Step_BeforeSetTimesteps_Throws()
    {
        var s = Plms();
        using var x = Randn(1);
        Assert.Contains("SetTimesteps", Assert.Throws<InvalidOperationException>(() => s.Step(x, 999, x)).Message);
    }

    [Fact]
    public void BadOptions_AreRejectedWithTheAllowedValues()
    {
        var sample = Assert.Throws<ArgumentException>(() => new PNDMScheduler(new PNDMSchedulerConfig { PredictionType = PredictionType.Sample }));
        Assert.Equal("prediction_type", sample.ParamName);
        Assert.Contains("epsilon, v_prediction", sample.Message);

        var spacing = Assert.Throws<ArgumentException>(() => SchedulerFactory.ReadConfig("""{"timestep_spacing": "uniform"}""", "PNDMScheduler"));
        Assert.Contains("'uniform'", spacing.Message);
        Assert.Contains("leading, trailing, linspace", spacing.Message);

        Assert.Contains("timestep_spacing", Assert.Throws<ArgumentException>(() => new PNDMScheduler(new PNDMSchedulerConfig { TimestepSpacing = (TimestepSpacing)7 })).Message);
    }

    [Fact]
    public void SetTimesteps_RejectsTooFewStepsForTheRungeKuttaWarmUp_AndOutOfRangeCounts()
    {
        var tooFew = Assert.Throws<ArgumentOutOfRangeException>(() => Prk().SetTimesteps(3));
        Assert.Contains("skip_prk_steps", tooFew.Message);
        Plms().SetTimesteps(3); // fine without the PRK warm-up
        Assert.Throws<ArgumentOutOfRangeException>(() => Plms().SetTimesteps(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Plms().SetTimesteps(1001));
    }

    [Fact]
    public void Step_RejectsFractionalAndOutOfRangeTimesteps_AndMismatchedShapes()
    {
        var s = Plms();
        s.SetTimesteps(10);
        using var x = Randn(1);
        using var wrong = randn(1, 4, 8, 9);
        Assert.Contains("whole", Assert.Throws<ArgumentException>(() => s.Step(x, 900.5, x)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x, 1000, x));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x, -1, x));
        Assert.Equal("modelOutput", Assert.Throws<ArgumentException>(() => s.Step(wrong, 901, x)).ParamName);
        Assert.Equal(0, s.Counter); // rejected calls do not advance the warm-up
    }

    [Fact]
    public void SetTimesteps_ResetsTheCounterAndHistory_SoLoopsAgree()
    {
        foreach (var make in new Func<PNDMScheduler>[] { () => Plms(), Prk })
        {
            var s = make();
            var first = Loop(s, 10);
            var second = Loop(s, 10);
            AssertSameLoop(first, second);

            // Abandon a loop half-way: the next one must not see its history.
            s.SetTimesteps(10);
            using (var x = Randn(7))
                for (int k = 0; k < 5; k++) s.Step(Randn(50 + k), s.Timesteps[k], x);
            AssertSameLoop(first, Loop(s, 10));
            AssertSameLoop(first, Loop(make(), 10));
        }
    }

    [Fact]
    public void History_SurvivesTheCallersDisposeScopes()
    {
        // The scheduler keeps earlier model outputs and the warm-up's start sample; freeing the caller's handles after
        // each step must not change the result.
        AssertSameLoop(Loop(Prk(), 10), Loop(Prk(), 10, scoped: true));
        AssertSameLoop(Loop(Plms(), 20), Loop(Plms(), 20, scoped: true));
    }

    [Fact]
    public void VPrediction_FirstStep_EqualsTheEpsilonStepOfTheSameNoise()
    {
        // v = sqrt(a) eps - sqrt(1 - a) x_0 with x_0 = (x - sqrt(1 - a) eps) / sqrt(a): the first step has no history,
        // so a v-model and an eps-model that agree on the noise land on the same sample.
        var eps = Plms();
        var v = Plms(PredictionType.VPrediction);
        eps.SetTimesteps(20);
        v.SetTimesteps(20);
        long t = (long)eps.Timesteps[0];
        using var x = Randn(1);
        using var noise = Randn(2);
        using var velocity = VelocityFor(x, noise, eps.AlphasCumprod[t].item<float>());

        AssertClose(eps.Step(noise, t, x).PrevSample, v.Step(velocity, t, x).PrevSample);
        Assert.Null(v.Step(velocity, v.Timesteps[1], x).PredOriginalSample);
    }

    [Fact]
    public void SetBeginIndex_IsRangeChecked_AndOnlyZeroWithTheRungeKuttaWarmUp()
    {
        var plms = Plms();
        plms.SetTimesteps(10);
        plms.SetBeginIndex(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => plms.SetBeginIndex(11));
        var prk = Prk();
        prk.SetTimesteps(10);
        prk.SetBeginIndex(0);
        Assert.Contains("skip_prk_steps", Assert.Throws<ArgumentOutOfRangeException>(() => prk.SetBeginIndex(2)).Message);
    }

    [Fact]
    public void Factory_BuildsPndm_AndSwitchingToItKeepsTheNoiseSchedule()
    {
        var lcm = new LCMSchedulerConfig { PredictionType = PredictionType.VPrediction, NumTrainTimesteps = 500 };
        var s = Assert.IsType<PNDMScheduler>(SchedulerFactory.Switch(lcm, "PNDMScheduler"));
        Assert.Equal(BetaSchedule.ScaledLinear, s.Config.BetaSchedule);
        Assert.Equal(0.00085, s.Config.BetaStart);
        Assert.Equal(500, s.Config.NumTrainTimesteps);
        Assert.Equal(PredictionType.VPrediction, s.Config.PredictionType);
        Assert.False(s.Config.SkipPrkSteps); // PNDM's own default, not carried from LCM
        Assert.Equal("PNDMScheduler", s.Config.ClassName);
    }
}
