using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class HeunDiscreteSchedulerTests
{
    static HeunDiscreteSchedulerConfig Sd => new() { BetaSchedule = BetaSchedule.ScaledLinear };

    static Tensor Randn(ulong seed) => randn([1, 2, 3, 3], generator: new Generator(seed));

    [Fact]
    public void Defaults_AreDiffusers()
    {
        var c = new HeunDiscreteSchedulerConfig();
        Assert.Equal((0.00085, 0.012, BetaSchedule.Linear, false, 1.0, TimestepSpacing.Linspace), (c.BetaStart, c.BetaEnd, c.BetaSchedule, c.ClipSample, c.ClipSampleRange, c.TimestepSpacing));
    }

    [Fact]
    public void Timesteps_RepeatEachButTheFirst_ForTheTwoStages()
    {
        var s = new HeunDiscreteScheduler(Sd);
        s.SetTimesteps(4);
        Assert.Equal([999.0, 666, 666, 333, 333, 0, 0], s.Timesteps);
        Assert.Equal(8, s.Sigmas!.Count);
        Assert.Equal(s.Sigmas[1], s.Sigmas[2]);
        Assert.Equal(0.0, s.Sigmas[^1]);
    }

    [Fact]
    public void StateInFirstOrder_AlternatesBetweenStages_AndSetTimestepsResetsIt()
    {
        var s = new HeunDiscreteScheduler(Sd);
        s.SetTimesteps(4);
        var x = Randn(1) * s.InitNoiseSigma;
        Assert.True(s.StateInFirstOrder);
        x = s.Step(Randn(2), s.Timesteps[0], x).PrevSample;
        Assert.False(s.StateInFirstOrder);
        x = s.Step(Randn(3), s.Timesteps[1], x).PrevSample;
        Assert.True(s.StateInFirstOrder);
        s.Step(Randn(4), s.Timesteps[2], x);
        Assert.False(s.StateInFirstOrder);
        s.SetTimesteps(4);
        Assert.True(s.StateInFirstOrder);
    }

    [Fact]
    public void ConstantNoisePrediction_TheCorrectorKeepsTheEulerStep()
    {
        // With the same eps at both ends, d_i = d'_i = eps: Heun's average equals the Euler step x_i + (sigma_{i+1} - sigma_i) eps.
        var s = new HeunDiscreteScheduler(Sd);
        s.SetTimesteps(5);
        var x = Randn(1) * s.InitNoiseSigma;
        var eps = Randn(2);
        var predictor = s.Step(eps, s.Timesteps[0], x).PrevSample;
        var corrected = s.Step(eps, s.Timesteps[1], predictor).PrevSample;
        Assert.True(corrected.allclose(x + (float)(s.Sigmas![1] - s.Sigmas[0]) * eps, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void ExpBetaSchedule_IsHeunsAlone()
    {
        var s = new HeunDiscreteScheduler(Sd with { BetaSchedule = BetaSchedule.Exp });
        // alpha_bar(t) = exp(-12 t): beta_0 = 1 - exp(-12 / T).
        double a0 = s.AlphasCumprod[0].item<float>();
        Assert.Equal(Math.Exp(-12.0 / 1000), a0, 6);
        var e = Assert.Throws<ArgumentException>(() => SchedulerFactory.Switch(s.Config, "EulerDiscreteScheduler"));
        Assert.Contains("'exp' is not supported by this scheduler", e.Message);
        Assert.Throws<ArgumentException>(() => new DDIMScheduler(new DDIMSchedulerConfig { BetaSchedule = BetaSchedule.Exp }));
    }

    [Fact]
    public void NonPositiveClipSampleRange_IsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new HeunDiscreteScheduler(Sd with { ClipSample = true, ClipSampleRange = 0 }));
        Assert.Equal("clip_sample_range", e.ParamName);
    }
}
