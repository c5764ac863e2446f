using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class EulerDiscreteSchedulerTests
{
    static EulerDiscreteSchedulerConfig Sd => new() { BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.00085, BetaEnd = 0.012 };

    static Tensor Randn(ulong seed) => randn([1, 2, 3, 3], generator: new Generator(seed));

    /// <summary>The smallest training sigma, sqrt((1 - alpha_bar_0) / alpha_bar_0).</summary>
    static double SmallestTrainingSigma(EulerDiscreteScheduler s)
    {
        double a = s.AlphasCumprod[0].item<float>();
        return Math.Sqrt((1 - a) / a);
    }

    [Fact]
    public void BetaSigmas_SpanTheTrainingRangeSymmetrically()
    {
        var s = new EulerDiscreteScheduler(Sd with { UseBetaSigmas = true });
        s.SetTimesteps(9);
        var sigmas = s.Sigmas!;
        double max = sigmas[0], min = sigmas[8];
        Assert.Equal(SmallestTrainingSigma(s), min, 6);
        for (int i = 0; i < 9; i++) Assert.Equal(max + min, sigmas[i] + sigmas[8 - i], 4);
        for (int i = 1; i < 9; i++) Assert.True(s.Timesteps[i] < s.Timesteps[i - 1]);
    }

    [Fact]
    public void TwoSigmaRespacings_AreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new EulerDiscreteScheduler(Sd with { UseKarrasSigmas = true, UseExponentialSigmas = true }));
        Assert.Contains("only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas", e.Message);
    }

    [Theory]
    [InlineData("interpolation_type", "cubic", "linear, log_linear")]
    [InlineData("timestep_type", "discreet", "discrete, continuous")]
    [InlineData("final_sigmas_type", "one", "zero, sigma_min")]
    public void UnknownOption_ListsTheAllowedValues(string key, string value, string allowed)
    {
        var json = $$"""{"_class_name": "EulerDiscreteScheduler", "{{key}}": "{{value}}"}""";
        var e = Assert.Throws<ArgumentException>(() => SchedulerFactory.ReadConfig(json));
        Assert.Contains(key, e.Message);
        Assert.Contains(allowed, e.Message);
    }

    [Fact]
    public void NonPositiveSigmaMax_IsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new EulerDiscreteScheduler(Sd with { UseKarrasSigmas = true, SigmaMax = 0 }));
        Assert.Equal("sigma_max", e.ParamName);
    }

    [Fact]
    public void KarrasWithSigmaRange_SpansExactlyThatRange()
    {
        var s = new EulerDiscreteScheduler(Sd with { UseKarrasSigmas = true, SigmaMin = 0.1, SigmaMax = 10 });
        s.SetTimesteps(9);
        Assert.Equal(10, s.Sigmas!.Count);
        Assert.Equal(10.0, s.Sigmas[0], 5);
        Assert.Equal(0.1, s.Sigmas[8], 6);
        // Evenly spaced in sigma^(1/7) (Karras et al. 2022, eq. 5).
        var roots = s.Sigmas.Take(9).Select(v => Math.Pow(v, 1 / 7.0)).ToArray();
        for (int i = 1; i < 9; i++) Assert.Equal(roots[1] - roots[0], roots[i] - roots[i - 1], 5);
    }

    [Fact]
    public void LogLinear_MakesNPlusOneLogEvenLevelsBeforeTheFinalOne()
    {
        var s = new EulerDiscreteScheduler(Sd with { InterpolationType = InterpolationType.LogLinear });
        s.SetTimesteps(10);
        Assert.Equal(10, s.Timesteps.Count);
        Assert.Equal(12, s.Sigmas!.Count);
        var logs = s.Sigmas.Take(11).Select(v => Math.Log(v)).ToArray();
        for (int i = 1; i < 11; i++) Assert.Equal(logs[1] - logs[0], logs[i] - logs[i - 1], 4);
        Assert.Equal(SmallestTrainingSigma(s), s.Sigmas[10], 6);
    }

    [Fact]
    public void FinalSigmaMin_EndsAtTheSmallestTrainingSigma()
    {
        var s = new EulerDiscreteScheduler(Sd with { FinalSigmasType = FinalSigmasType.SigmaMin });
        s.SetTimesteps(5);
        Assert.Equal(SmallestTrainingSigma(s), s.Sigmas![^1], 6);
        Assert.True(s.Sigmas[^1] > 0);
    }

    [Fact]
    public void ContinuousVPrediction_TimestepsAreAQuarterLogSigma()
    {
        var s = new EulerDiscreteScheduler(Sd with { TimestepType = TimestepType.Continuous, PredictionType = PredictionType.VPrediction });
        s.SetTimesteps(6);
        for (int i = 0; i < 6; i++) Assert.Equal(0.25 * Math.Log(s.Sigmas![i]), s.Timesteps[i], 5);
        // Continuous timesteps only with v-prediction, as in diffusers.
        var eps = new EulerDiscreteScheduler(Sd with { TimestepType = TimestepType.Continuous });
        eps.SetTimesteps(6);
        Assert.Equal(999.0, eps.Timesteps[0]);
    }

    [Fact]
    public void LeadingSpacing_InitNoiseSigmaIncludesTheDataVariance()
    {
        var s = new EulerDiscreteScheduler(Sd with { TimestepSpacing = TimestepSpacing.Leading, StepsOffset = 1 });
        s.SetTimesteps(10);
        Assert.Equal(901.0, s.Timesteps[0]);
        double max = s.Sigmas!.Max();
        Assert.Equal(Math.Sqrt(max * max + 1), s.InitNoiseSigma, 5);
    }

    [Fact]
    public void Churn_UsesTheGivenNoise_OnlyWhenGammaIsPositive()
    {
        var s = new EulerDiscreteScheduler(Sd);
        var x = Randn(1) * 14;
        var eps = Randn(2);
        Tensor StepWith(double churn, Tensor noise)
        {
            s.SetTimesteps(10);
            return s.Step(eps, s.Timesteps[0], x, churn, noise: noise).PrevSample;
        }
        Assert.True(StepWith(0, Randn(3)).allclose(StepWith(0, Randn(4))), "no churn: the noise is not used");
        Assert.False(StepWith(5, Randn(3)).allclose(StepWith(5, Randn(4))), "churn: the noise moves the sample");
        Assert.Throws<ArgumentOutOfRangeException>(() => StepWith(-1, Randn(3)));
    }
}
