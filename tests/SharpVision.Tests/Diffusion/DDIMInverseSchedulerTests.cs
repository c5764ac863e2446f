using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class DDIMInverseSchedulerTests
{
    static Tensor Randn(long seed, params long[] shape) => randn(shape, dtype: ScalarType.Float64, generator: new Generator((ulong)seed));

    [Theory]
    [InlineData(TimestepSpacing.Leading)]
    [InlineData(TimestepSpacing.Trailing)]
    [InlineData(TimestepSpacing.Linspace)]
    public void Timesteps_AreTheSamplingScheduleReversed(TimestepSpacing spacing)
    {
        var inverse = new DDIMInverseScheduler(new DDIMInverseSchedulerConfig { TimestepSpacing = spacing, NumTrainTimesteps = 100 });
        var forward = new DDIMScheduler(new DDIMSchedulerConfig { TimestepSpacing = spacing, NumTrainTimesteps = 100 });
        inverse.SetTimesteps(7);
        forward.SetTimesteps(7);
        Assert.Equal(forward.Timesteps.Reverse(), inverse.Timesteps);
    }

    [Fact]
    public void StartTimestep_IsTheSchedulePreviousEntry_AndDiffersFromReferenceForTrailingNonDivisible()
    {
        var s = new DDIMInverseScheduler(new DDIMInverseSchedulerConfig { TimestepSpacing = TimestepSpacing.Trailing, NumTrainTimesteps = 100 });
        s.SetTimesteps(7);
        Assert.Equal([13L, 28, 42, 56, 70, 85, 99], s.Timesteps);
        Assert.Equal(-1, s.StartTimestep(13));
        Assert.Equal(70, s.StartTimestep(85));
        Assert.Equal(71, s.ReferenceStartTimestep(85));
    }

    [Fact]
    public void Inversion_WithTheTrueNoise_FollowsTheForwardProcess_AndDdimUndoesIt()
    {
        // With epsilon known exactly, each inversion step lands on q(x_t | x_0) and DDIM steps back exactly.
        var inverse = new DDIMInverseScheduler(new DDIMInverseSchedulerConfig { ClipSample = false });
        var forward = new DDIMScheduler(new DDIMSchedulerConfig { ClipSample = false });
        inverse.SetTimesteps(10);
        forward.SetTimesteps(10);
        var x0 = Randn(1, 1, 3, 8, 8);
        var eps = Randn(2, 1, 3, 8, 8);
        var x = x0;
        foreach (long t in inverse.Timesteps)
        {
            var next = inverse.Step(eps, t, x);
            ParityCase.AssertClose($"x0 at {t}", next.PredOriginalSample, x0, 1e-6, 1e-6);
            ParityCase.AssertClose($"x_{t}", next.PrevSample, inverse.AddNoise(x0, eps, tensor(new[] { t })), 1e-6, 1e-6);
            x = next.PrevSample;
        }
        foreach (long t in forward.Timesteps) x = forward.Step(eps, t, x).PrevSample;
        ParityCase.AssertClose("round trip", x, x0, 1e-6, 1e-6);
    }

    [Fact]
    public void BadInput_Throws()
    {
        var s = new DDIMInverseScheduler();
        var x = zeros(1, 3, 4, 4);
        Assert.Contains("SetTimesteps", Assert.Throws<InvalidOperationException>(() => s.Step(x, 0, x)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(1001));
        s.SetTimesteps(20);
        Assert.Contains("not in the schedule", Assert.Throws<ArgumentException>(() => s.Step(x, 51, x)).Message);
        Assert.Contains("(1, 3, 4)", Assert.Throws<ArgumentException>(() => s.Step(zeros(1, 3, 4), 50, x)).Message);
        var ex = Assert.Throws<ArgumentException>(() => DDIMInverseSchedulerConfig.FromJson("""{"prediction_type": "eps"}"""));
        Assert.Contains("epsilon, sample, v_prediction", ex.Message);
    }

    [Fact]
    public void Config_RoundTrip_KeepsEveryFieldAndUnknownKeys()
    {
        var config = new DDIMInverseSchedulerConfig
        {
            DiffusersVersion = "0.2", NumTrainTimesteps = 50, BetaStart = 0.001, BetaEnd = 0.01, BetaSchedule = BetaSchedule.ScaledLinear,
            ClipSample = false, ClipSampleRange = 4, SetAlphaToOne = false, StepsOffset = 1, PredictionType = PredictionType.VPrediction,
            TimestepSpacing = TimestepSpacing.Trailing, RescaleBetasZeroSnr = true,
            ExtensionData = new() { ["set_alpha_to_zero"] = JsonDocument.Parse("false").RootElement.Clone() },
        };
        var back = DDIMInverseSchedulerConfig.FromJson(config.ToJson());
        Assert.Equal(config with { ExtensionData = null }, back with { ExtensionData = null });
        Assert.False(back.ExtensionData!["set_alpha_to_zero"].GetBoolean());
        Assert.Equal(config.ToJson(), back.ToJson());
    }

    [Fact]
    public void DeprecatedSetAlphaToZero_IsReadAsSetAlphaToOne()
    {
        var legacy = new DDIMInverseScheduler(DDIMInverseSchedulerConfig.FromJson("""{"set_alpha_to_zero": false}"""));
        var plain = new DDIMInverseScheduler();
        Assert.Equal(legacy.AlphasCumprod[0].item<float>(), legacy.InitialAlphaCumprod);
        Assert.Equal(1f, plain.InitialAlphaCumprod);
    }

    [Theory]
    [InlineData("ddim_inverse/ddim_inverse_default_20")]
    [InlineData("ddim_inverse/ddim_inverse_vpred_trailing_10")]
    public void Config_FixtureFile_ReadsAndWritesTheSameJson(string name)
    {
        var path = FixtureRoot.Combine(name, "scheduler_config.json");
        var written = JsonNode.Parse(DDIMInverseSchedulerConfig.Load(path).ToJson())!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(path)), written), written.ToJsonString());
    }
}
