using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

/// <summary>The step-index bookkeeping, scaling and add_noise the six sigma-space schedulers share, checked on each.</summary>
public sealed class SigmaSpaceSchedulerTests
{
    /// <summary>Each class and its solver order.</summary>
    static readonly Dictionary<string, int> Orders = new()
    {
        ["EulerDiscreteScheduler"] = 1, ["EulerAncestralDiscreteScheduler"] = 1, ["HeunDiscreteScheduler"] = 2,
        ["LMSDiscreteScheduler"] = 1, ["KDPM2DiscreteScheduler"] = 2, ["KDPM2AncestralDiscreteScheduler"] = 2,
    };

    public static TheoryData<string> Classes() => new(Orders.Keys);

    /// <summary>A Stable Diffusion noise schedule switched to <paramref name="className"/> (the factory keeps the keys the class knows).</summary>
    static SigmaSpaceScheduler Make(string className) =>
        (SigmaSpaceScheduler)SchedulerFactory.Switch(
            new EulerDiscreteSchedulerConfig { BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.00085, BetaEnd = 0.012 }, className);

    static Tensor Randn(ulong seed) => randn([1, 2, 3, 3], generator: new Generator(seed));

    [Theory]
    [MemberData(nameof(Classes))]
    public void Step_BeforeSetTimesteps_Throws(string className)
    {
        var s = Make(className);
        var x = Randn(1);
        var e = Assert.Throws<InvalidOperationException>(() => s.Step(x, s.Timesteps[0], x));
        Assert.Contains("SetTimesteps", e.Message);
        Assert.Throws<InvalidOperationException>(() => s.ScaleModelInput(x, s.Timesteps[0]));
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Order_AndScheduleLength_FollowTheSolver(string className)
    {
        var s = Make(className);
        s.SetTimesteps(6);
        int order = Orders[className];
        Assert.Equal(order, s.Order);
        Assert.Equal(6, s.NumInferenceSteps);
        // Two-stage solvers visit every timestep but the first twice.
        Assert.Equal(order == 2 ? 11 : 6, s.Timesteps.Count);
        Assert.True(s.Sigmas!.Count > s.Timesteps.Count, "one more sigma than timesteps (the final level)");
        Assert.Equal(0.0, s.Sigmas[^1]);
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void StepIndex_AdvancesPerStep_AndSetTimestepsResetsIt(string className)
    {
        var s = Make(className);
        s.SetTimesteps(5);
        var x = Randn(2) * s.InitNoiseSigma;
        Assert.Null(s.StepIndex);
        for (int k = 0; k < 3; k++)
        {
            var t = s.Timesteps[k];
            x = s.Step(Randn(10 + (ulong)k), t, x, generator: new Generator(5)).PrevSample;
            Assert.Equal(k + 1, s.StepIndex);
        }
        s.SetBeginIndex(2);
        s.SetTimesteps(5);
        Assert.Null(s.StepIndex);
        Assert.Null(s.BeginIndex);
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void SetBeginIndex_StartsThereWhateverTheTimestep(string className)
    {
        var s = Make(className);
        s.SetTimesteps(8);
        s.SetBeginIndex(4);
        var x = Randn(3);
        var scaled = s.ScaleModelInput(x, s.Timesteps[0]);
        Assert.Equal(4, s.StepIndex);
        double sigma = s.Sigmas![4];
        Assert.True(scaled.allclose(x / Math.Sqrt(sigma * sigma + 1), rtol: 1e-6, atol: 1e-7));
        // add_noise after SetBeginIndex takes the begin index's sigma, not the timestep's.
        var noised = s.AddNoise(zeros_like(x), x, tensor(new[] { s.Timesteps[0] }));
        Assert.True(noised.allclose(x * (float)sigma, rtol: 1e-6, atol: 1e-7));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SetBeginIndex(s.Timesteps.Count));
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void FirstStep_AtATimestepNotInTheSchedule_NamesIt(string className)
    {
        var s = Make(className);
        s.SetTimesteps(4);
        var x = Randn(4);
        var e = Assert.Throws<ArgumentException>(() => s.Step(x, 123.25, x, generator: new Generator(1)));
        Assert.Contains("123.25", e.Message);
        Assert.Equal("timestep", e.ParamName);
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Step_PastTheLastEntry_Throws(string className)
    {
        var s = Make(className);
        s.SetTimesteps(2);
        var x = Randn(5) * s.InitNoiseSigma;
        foreach (var t in s.Timesteps.ToArray()) x = s.Step(Randn(6), t, x, generator: new Generator(2)).PrevSample;
        Assert.True(x.isfinite().all().item<bool>());
        Assert.Throws<InvalidOperationException>(() => s.Step(Randn(6), s.Timesteps[^1], x));
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void AddNoise_IsSamplePlusSigmaTimesNoise_PerTimestep(string className)
    {
        var s = Make(className);
        s.SetTimesteps(7);
        var x0 = Randn(7).expand(3, 2, 3, 3).contiguous();
        var noise = Randn(8).expand(3, 2, 3, 3).contiguous();
        int[] picks = [0, 3, s.Timesteps.Count - 1];
        var noised = s.AddNoise(x0, noise, tensor(picks.Select(i => s.Timesteps[i]).ToArray()));
        for (int b = 0; b < 3; b++)
        {
            int index = s.IndexForTimestep(s.Timesteps[picks[b]]);
            Assert.True(noised[b].allclose(x0[b] + noise[b] * (float)s.Sigmas![index], rtol: 1e-6, atol: 1e-7));
        }
        var e = Assert.Throws<ArgumentException>(() => s.AddNoise(x0, noise, tensor(new[] { s.Timesteps[0], s.Timesteps[1] })));
        Assert.Contains("one entry per sample", e.Message);
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Config_WritesBackAndReadsAsTheSameRecord(string className)
    {
        var config = Make(className).Config;
        Assert.Equal(className, config.ClassName);
        Assert.Equal(config, SchedulerFactory.ReadConfig(config.ToJson()));
    }

    [Theory]
    [InlineData("EulerAncestralDiscreteScheduler")]
    [InlineData("KDPM2DiscreteScheduler")]
    [InlineData("KDPM2AncestralDiscreteScheduler")]
    public void SamplePrediction_IsRejectedWhereDiffusersLacksIt(string className)
    {
        var config = new EulerDiscreteSchedulerConfig { PredictionType = PredictionType.Sample };
        var e = Assert.Throws<ArgumentException>(() => SchedulerFactory.Switch(config, className));
        Assert.Contains("prediction_type 'sample' is not supported", e.Message);
        Assert.Equal(className, SchedulerFactory.Switch(config with { PredictionType = PredictionType.VPrediction }, className).Config.ClassName);
    }

    [Fact]
    public void IndexForTimestep_TakesTheSecondOfADuplicate_AndTheNearestWithinAFewUlps()
    {
        var s = Make("HeunDiscreteScheduler");
        s.SetTimesteps(10);
        Assert.Equal([999.0, 888, 888], s.Timesteps.Take(3));
        Assert.Equal(2, s.IndexForTimestep(888));
        // Not equal in float32, but within 1e-6 relative: the nearest entry (diffusers would raise).
        Assert.Equal(0, s.IndexForTimestep(999 * (1 - 5e-7)));
        Assert.Equal(18, s.IndexForTimestep(5e-7));
        Assert.Throws<ArgumentException>(() => s.IndexForTimestep(888.01));
    }
}
