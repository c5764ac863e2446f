using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class DDPMSchedulerTests
{
    static Tensor Randn(long seed, params long[] shape) => randn(shape, dtype: ScalarType.Float64, generator: new Generator((ulong)seed));

    [Fact]
    public void WithoutSetTimesteps_UsesAllTrainingTimesteps_AndSteppingBackByOne()
    {
        var s = new DDPMScheduler();
        Assert.Null(s.NumInferenceSteps);
        Assert.Equal(1000, s.Timesteps.Count);
        Assert.Equal(999, s.Timesteps[0]);
        Assert.Equal(0, s.Timesteps[^1]);
        Assert.Equal(499, s.PreviousTimestep(500));
        Assert.Equal(-1, s.PreviousTimestep(0));
    }

    [Theory]
    [InlineData(DDPMVarianceType.FixedSmall)]
    [InlineData(DDPMVarianceType.FixedLarge)]
    [InlineData(DDPMVarianceType.FixedSmallLog)]
    [InlineData(DDPMVarianceType.FixedLargeLog)]
    public void Step_IsThePosteriorMeanPlusSigmaZ(DDPMVarianceType varianceType)
    {
        // Ho et al. 2020 eq. 7: mu = sqrt(a_prev) beta / (1 - a) x0 + sqrt(alpha) (1 - a_prev) / (1 - a) x_t.
        var s = new DDPMScheduler(new DDPMSchedulerConfig { VarianceType = varianceType, ClipSample = false });
        s.SetTimesteps(50);
        long t = s.Timesteps[10], prev = s.PreviousTimestep(t);
        var x0 = Randn(1, 2, 3, 4, 4);
        var eps = Randn(2, 2, 3, 4, 4);
        var z = Randn(3, 2, 3, 4, 4);
        var xt = s.AddNoise(x0, eps, tensor(new[] { t }));
        var result = s.Step(eps, t, xt, varianceNoise: z);

        double a = s.AlphasCumprod[t].item<float>(), aPrev = s.AlphasCumprod[prev].item<float>();
        double beta = 1 - a / aPrev;
        var mean = Math.Sqrt(aPrev) * beta / (1 - a) * x0 + Math.Sqrt(a / aPrev) * (1 - aPrev) / (1 - a) * xt;
        double variance = varianceType is DDPMVarianceType.FixedSmall or DDPMVarianceType.FixedSmallLog ? (1 - aPrev) / (1 - a) * beta : beta;
        ParityCase.AssertClose("x0", result.PredOriginalSample, x0, 1e-5, 1e-5);
        ParityCase.AssertClose("x_prev", result.PrevSample, mean + Math.Sqrt(variance) * z, 1e-5, 1e-5);
    }

    [Fact]
    public void Step_AtTimestepZero_AddsNoNoise()
    {
        var s = new DDPMScheduler();
        var x = Randn(4, 1, 3, 4, 4);
        var eps = Randn(5, 1, 3, 4, 4);
        var a = s.Step(eps, 0, x, varianceNoise: Randn(6, 1, 3, 4, 4)).PrevSample;
        var b = s.Step(eps, 0, x, varianceNoise: zeros_like(x)).PrevSample;
        Assert.True(a.eq(b).all().item<bool>());
        Assert.True(s.Step(eps, 0, x, generator: new Generator(3)).PrevSample.eq(b).all().item<bool>());
    }

    [Fact]
    public void Step_LearnedRange_SplitsTheVarianceChannels_AndInterpolatesLogVariances()
    {
        var s = new DDPMScheduler(new DDPMSchedulerConfig { VarianceType = DDPMVarianceType.LearnedRange, ClipSample = false });
        var x = Randn(7, 1, 3, 4, 4);
        var eps = Randn(8, 1, 3, 4, 4);
        var z = Randn(9, 1, 3, 4, 4);
        var fixedSmall = new DDPMScheduler(new DDPMSchedulerConfig { VarianceType = DDPMVarianceType.FixedSmall, ClipSample = false });
        var fixedLarge = new DDPMScheduler(new DDPMSchedulerConfig { VarianceType = DDPMVarianceType.FixedLarge, ClipSample = false });
        // v = -1 gives the small (posterior) variance, v = +1 the large one (beta_t).
        var low = s.Step(cat([eps, full_like(eps, -1.0)], 1), 500, x, varianceNoise: z).PrevSample;
        var high = s.Step(cat([eps, full_like(eps, 1.0)], 1), 500, x, varianceNoise: z).PrevSample;
        ParityCase.AssertClose("v=-1", low, fixedSmall.Step(eps, 500, x, varianceNoise: z).PrevSample, 1e-5, 1e-5);
        ParityCase.AssertClose("v=+1", high, fixedLarge.Step(eps, 500, x, varianceNoise: z).PrevSample, 1e-5, 1e-5);
        var ex = Assert.Throws<ArgumentException>(() => s.Step(eps, 500, x, varianceNoise: z));
        Assert.Contains("learned_range", ex.Message);
    }

    [Fact]
    public void GetVelocity_IsTheVTarget()
    {
        var s = new DDPMScheduler();
        var x0 = Randn(10, 2, 3, 4, 4);
        var eps = Randn(11, 2, 3, 4, 4);
        var t = tensor(new long[] { 10, 900 });
        var v = s.GetVelocity(x0, eps, t);
        for (int i = 0; i < 2; i++)
        {
            double a = s.AlphasCumprod[t[i].item<long>()].item<float>();
            ParityCase.AssertClose($"v[{i}]", v[i], Math.Sqrt(a) * eps[i] - Math.Sqrt(1 - a) * x0[i], 1e-12, 1e-12);
        }
    }

    [Fact]
    public void SetTimesteps_Custom_MustDescendWithinRange()
    {
        var s = new DDPMScheduler();
        s.SetTimesteps([900L, 500, 100]);
        Assert.Equal(500, s.PreviousTimestep(900));
        Assert.Equal(-1, s.PreviousTimestep(100));
        Assert.Contains("descending", Assert.Throws<ArgumentException>(() => s.SetTimesteps([100L, 500])).Message);
        Assert.Contains("0..999", Assert.Throws<ArgumentException>(() => s.SetTimesteps([1000L])).Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void SetTimesteps_OutOfRange_Throws(int n) =>
        Assert.Contains("num_inference_steps", Assert.Throws<ArgumentOutOfRangeException>(() => new DDPMScheduler().SetTimesteps(n)).Message);

    [Fact]
    public void FromJson_UnknownVarianceType_ListsTheAllowedValues()
    {
        var ex = Assert.Throws<ArgumentException>(() => DDPMSchedulerConfig.FromJson("""{"variance_type": "fixed"}"""));
        Assert.Contains("fixed_small, fixed_small_log, fixed_large, fixed_large_log, learned, learned_range", ex.Message);
        var schedule = Assert.Throws<ArgumentException>(() => DDPMSchedulerConfig.FromJson("""{"beta_schedule": "sigmoid"}"""));
        Assert.Contains("linear, scaled_linear, squaredcos_cap_v2", schedule.Message);
    }

    [Fact]
    public void Config_RoundTrip_KeepsEveryFieldAndUnknownKeys()
    {
        var config = new DDPMSchedulerConfig
        {
            DiffusersVersion = "0.1", NumTrainTimesteps = 500, BetaStart = 0.0002, BetaEnd = 0.03, BetaSchedule = BetaSchedule.SquaredcosCapV2,
            VarianceType = DDPMVarianceType.LearnedRange, ClipSample = false, ClipSampleRange = 3, StepsOffset = 2,
            PredictionType = PredictionType.Sample, Thresholding = true, DynamicThresholdingRatio = 0.8, SampleMaxValue = 2,
            TimestepSpacing = TimestepSpacing.Linspace, RescaleBetasZeroSnr = true,
            ExtensionData = new() { ["x"] = JsonDocument.Parse("7").RootElement.Clone() },
        };
        var back = DDPMSchedulerConfig.FromJson(config.ToJson());
        Assert.Equal(config with { ExtensionData = null }, back with { ExtensionData = null });
        Assert.Equal(7, back.ExtensionData!["x"].GetInt32());
        Assert.Equal(config.ToJson(), back.ToJson());
    }

    [Theory]
    [InlineData("ddpm/ddpm_fixed_large_vpred_50")]
    [InlineData("ddpm/ddpm_fixed_small_1000")]
    [InlineData("ddpm/ddpm_sample_trailing_20")]
    public void Config_FixtureFile_ReadsAndWritesTheSameJson(string name)
    {
        var path = FixtureRoot.Combine(name, "scheduler_config.json");
        var written = JsonNode.Parse(DDPMSchedulerConfig.Load(path).ToJson())!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(path)), written), written.ToJsonString());
    }
}
