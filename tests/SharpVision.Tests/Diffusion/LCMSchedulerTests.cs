using SharpVision.Diffusion.Schedulers;
using static SharpVision.Tests.Diffusion.SchedulerTestTensors;

namespace SharpVision.Tests.Diffusion;

public sealed class LCMSchedulerTests
{
    static LCMScheduler Lcm(PredictionType prediction = PredictionType.Epsilon) => new(new LCMSchedulerConfig { PredictionType = prediction });

    /// <summary>A whole loop with seeded model outputs and noise.</summary>
    static List<Tensor> Loop(LCMScheduler s, int steps)
    {
        s.SetTimesteps(steps);
        Assert.Null(s.StepIndex);
        var x = Randn(1);
        var samples = new List<Tensor>();
        for (int k = 0; k < s.Timesteps.Count; k++)
        {
            x = s.Step(Randn(100 + k), s.Timesteps[k], x, Randn(200 + k)).PrevSample;
            samples.Add(x);
        }
        Assert.Equal(steps, s.StepIndex);
        return samples;
    }

    [Fact]
    public void Order_IsOne()
    {
        Assert.Equal(1, Lcm().Order);
        Assert.Equal(1, SchedulerFactory.Create(new LCMSchedulerConfig()).Order);
    }

    [Fact]
    public void Step_BeforeSetTimesteps_Throws()
    {
        var s = Lcm();
        using var x = Randn(1);
        Assert.Contains("SetTimesteps", Assert.Throws<InvalidOperationException>(() => s.Step(x, 999, x)).Message);
    }

    [Fact]
    public void BadOptions_AreRejectedWithAClearMessage()
    {
        var prediction = Assert.Throws<ArgumentException>(() => SchedulerFactory.ReadConfig("""{"prediction_type": "x0"}""", "LCMScheduler"));
        Assert.Contains("epsilon, sample, v_prediction", prediction.Message);
        Assert.Equal("original_inference_steps",
            Assert.Throws<ArgumentOutOfRangeException>(() => new LCMScheduler(new LCMSchedulerConfig { OriginalInferenceSteps = 0 })).ParamName);
        Assert.Contains("beta_schedule", Assert.Throws<ArgumentException>(() => new LCMScheduler(new LCMSchedulerConfig { BetaSchedule = (BetaSchedule)9 })).Message);

        var s = Lcm();
        Assert.Contains("50 x 1", Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(51)).Message);
        Assert.Contains("grid's 25 timesteps", Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(30, null, strength: 0.5)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(4, originalInferenceSteps: 1001));
        Assert.Equal("strength", Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(4, null, strength: 0)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(0));
        Assert.Contains("descending", Assert.Throws<ArgumentException>(() => s.SetTimesteps([999L, 999, 259])).Message);
        Assert.Throws<ArgumentException>(() => s.SetTimesteps([1000L, 500]));
        Assert.Null(s.NumInferenceSteps); // nothing was set by the rejected calls
    }

    [Fact]
    public void Step_RejectsTimestepsOffTheSchedule_AndNoiseOfTheWrongShape()
    {
        var s = Lcm();
        s.SetTimesteps(4);
        using var x = Randn(1);
        using var wrong = randn(2, 4, 8, 8);
        Assert.Contains("not in the schedule", Assert.Throws<ArgumentException>(() => s.Step(x, 998, x)).Message);
        Assert.Equal("noise", Assert.Throws<ArgumentException>(() => s.Step(x, 999, x, wrong)).ParamName);
        Assert.Throws<ArgumentException>(() => s.Step(x, 999, x, x, new Generator(1)));
        Assert.Null(s.StepIndex);
    }

    [Fact]
    public void SetTimesteps_ResetsTheStepIndex_SoLoopsAgree()
    {
        var s = Lcm();
        var first = Loop(s, 4);
        var second = Loop(s, 4);
        // Abandon a loop after one step, then set the schedule again.
        s.SetTimesteps(4);
        using (var x = Randn(7)) s.Step(Randn(8), s.Timesteps[0], x, Randn(9));
        Assert.Equal(1, s.StepIndex);
        var third = Loop(s, 4);
        for (int k = 0; k < first.Count; k++)
        {
            Assert.True(Same(first[k], second[k]), $"step {k}: second loop differs");
            Assert.True(Same(first[k], third[k]), $"step {k}: loop after an abandoned one differs");
        }
    }

    [Fact]
    public void Strength_KeepsTheLowerPartOfTheDistillationGrid()
    {
        // k = 1000 / 50 = 20: the grid 20 i - 1 for i = 1..25 is 19..499; indices floor(j * 25 / 4) = 0, 6, 12, 18.
        var s = Lcm();
        s.SetTimesteps(4, null, strength: 0.5);
        Assert.Equal([499.0, 379, 259, 139], s.Timesteps);
        // Custom timesteps with strength keep the last int(N * strength); N stays the full count, as in diffusers.
        s.SetTimesteps([999L, 759, 499, 259], strength: 0.5);
        Assert.Equal([499.0, 259], s.Timesteps);
        Assert.Equal(4, s.NumInferenceSteps);
        Assert.True(s.CustomTimesteps);
        s.SetTimesteps(4);
        Assert.False(s.CustomTimesteps);
    }

    [Fact]
    public void BoundaryCondition_IsTheIdentityAtZero_AndTendsToTheModelsEstimateForLargeT()
    {
        var s = Lcm();
        var (skip0, out0) = s.BoundaryConditionScalings(0);
        Assert.Equal(1f, skip0);
        Assert.Equal(0f, out0);
        var (skip, cOut) = s.BoundaryConditionScalings(999);
        Assert.True(skip < 1e-8 && Math.Abs(cOut - 1) < 1e-8, $"c_skip {skip}, c_out {cOut}");
    }

    [Fact]
    public void LastStep_ReturnsTheDenoisedSample_WithoutNoise()
    {
        // prediction_type sample: x_0 is the model output, so the last step is exactly c_out x_0 + c_skip x_t.
        var s = Lcm(PredictionType.Sample);
        s.SetTimesteps(4);
        s.SetBeginIndex(3);
        long t = (long)s.Timesteps[3];
        using var x = Randn(1);
        using var x0 = Randn(2);
        var (cSkip, cOut) = s.BoundaryConditionScalings(t);
        var output = s.Step(x0, t, x, Randn(3));
        using var expected = cOut * x0 + cSkip * x;
        Assert.True(Same(output.PrevSample, expected));
        Assert.True(Same(output.PredOriginalSample!, expected));

        // Earlier steps do use the noise.
        s.SetTimesteps(4);
        var a = s.Step(x0, s.Timesteps[0], x, Randn(3)).PrevSample;
        s.SetTimesteps(4);
        var b = s.Step(x0, s.Timesteps[0], x, Randn(4)).PrevSample;
        Assert.False(Same(a, b));
    }

    [Fact]
    public void VPrediction_EqualsTheEpsilonStepOfTheSameNoise()
    {
        var eps = Lcm();
        var v = Lcm(PredictionType.VPrediction);
        eps.SetTimesteps(4);
        v.SetTimesteps(4);
        long t = (long)eps.Timesteps[1];
        using var timesteps = tensor(new[] { t });
        using var x0 = Randn(1);
        using var noise = Randn(2);
        using var x = v.AddNoise(x0, noise, timesteps);
        using var velocity = VelocityFor(x, noise, eps.AlphasCumprod[t].item<float>());
        AssertClose(velocity, v.GetVelocity(x0, noise, timesteps), rtol: 1e-5, atol: 1e-6);

        using var z = Randn(3);
        eps.SetBeginIndex(1);
        v.SetBeginIndex(1);
        AssertClose(eps.Step(noise, t, x, z).PrevSample, v.Step(velocity, t, x, z).PrevSample);
    }
}
