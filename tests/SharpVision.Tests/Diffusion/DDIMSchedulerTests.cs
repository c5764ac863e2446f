using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class DDIMSchedulerTests
{
    static readonly string[] DdimCases =
    [
        "ddim/ddim_cosine_vpred_trailing_zsnr", "ddim/ddim_default_50", "ddim/ddim_eta1_clipped_output",
        "ddim/ddim_sample_threshold_linspace", "ddim/ddim_sd_scaled_linear", "ddim/ddim_trailing_nondivisible",
    ];

    public static TheoryData<string> Cases() => new(DdimCases);

    static Tensor Randn(long seed, params long[] shape) => randn(shape, generator: new Generator((ulong)seed));

    // ---- previous timestep: the schedule's next entry, not diffusers' t - T // N ----

    [Theory]
    [MemberData(nameof(Cases))]
    public void PreviousTimestep_IsTheScheduleNextEntry_AndDiffersFromReferenceWhereItsRuleIsWrong(string name)
    {
        using var c = ParityCase.Load(name);
        var s = DDIMScheduler.FromConfigFile(c.PathOf("scheduler_config.json"));
        s.SetTimesteps((int)c.Long("num_inference_steps")!.Value);
        var reference = c.Raw("prev_timesteps_reference").data<long>().ToArray();

        var ours = Enumerable.Range(0, reference.Length).Select(k => s.PreviousTimestep(s.Timesteps[k])).ToArray();
        var next = Enumerable.Range(0, reference.Length).Select(k => k + 1 < s.Timesteps.Count ? s.Timesteps[k + 1] : -1L).ToArray();
        Assert.Equal(next, ours);
        Assert.Equal(reference, Enumerable.Range(0, reference.Length).Select(k => s.ReferencePreviousTimestep(s.Timesteps[k])).ToArray());

        // Past the end both mean "final alpha": compare the timesteps that index alpha-bar.
        bool differs = ours.Zip(reference).Any(p => p.First != p.Second && (p.First >= 0 || p.Second >= 0));
        if (c.Bool("reference_prev_differs_from_schedule"))
            Assert.True(differs, $"{name} is flagged but our previous timesteps equal the reference's");
        else if (s.Config.TimestepSpacing == TimestepSpacing.Linspace)
            // The fixture flag only marks N not dividing T; linspace steps by (T - 1) / (N - 1), so t - T // N is off
            // even when N divides T (999 -> 899 in the reference, 888 next in the schedule).
            Assert.True(differs, $"{name}: linspace with t - T // N should differ from the schedule");
        else
            Assert.False(differs, $"{name} is not flagged but our previous timesteps differ from the reference's");
    }

    [Fact]
    public void Step_OnTheFlaggedCase_DefaultLandsOnTheScheduleNotOnTheReference()
    {
        using var c = ParityCase.Load("ddim/ddim_trailing_nondivisible");
        var s = DDIMScheduler.FromConfigFile(c.PathOf("scheduler_config.json"));
        s.SetTimesteps(7);
        Assert.Equal([99L, 85, 70, 56, 42, 28, 13], s.Timesteps);
        var step0 = s.Step(c.Raw("step0.model_output"), 99, c.Raw("initial_sample"), prevTimestep: 85);
        var x = step0.PrevSample;
        var eps = c.Raw("step1.model_output");

        var ours = s.Step(eps, 85, x);
        var reference = s.Step(eps, 85, x, prevTimestep: s.ReferencePreviousTimestep(85));
        var explicitNext = s.Step(eps, 85, x, prevTimestep: 70);

        Assert.Equal(71, s.ReferencePreviousTimestep(85));
        ParityCase.AssertClose("reference rule", reference.PrevSample, c.Raw("step1.expected_prev_sample"), 1e-5, 1e-5);
        Assert.True(ours.PrevSample.eq(explicitNext.PrevSample).all().item<bool>(), "default must step to the schedule's next entry, 70");
        Assert.False(ours.PrevSample.allclose(c.Raw("step1.expected_prev_sample"), 1e-5, 1e-5), "default must differ from diffusers' t - T // N = 71");
    }

    [Fact]
    public void Parity_InFloat64_StaysWithinTheFloat32Tolerance()
    {
        // The reference keeps alpha-bar float32 in step() whatever the sample dtype; float64 samples only change the
        // tensor arithmetic, so float64 results sit within float32 rounding of the float32 fixture.
        using var c = ParityCase.Load("ddim/ddim_eta1_clipped_output");
        new DDIMSchedulerParity().Run(c, new Precision(ScalarType.Float64, 1e-5, 1e-5));
    }

    // ---- the DDIM update against its closed form ----

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.VPrediction)]
    public void Step_WithTheTrueModelOutput_RecoversX0_AndLandsOnTheForwardProcessAtPrev(PredictionType prediction)
    {
        var s = new DDIMScheduler(new DDIMSchedulerConfig { ClipSample = false, PredictionType = prediction, BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.00085, BetaEnd = 0.012 });
        s.SetTimesteps(20);
        var x0 = Randn(1, 2, 3, 8, 8).to(ScalarType.Float64);
        var eps = Randn(2, 2, 3, 8, 8).to(ScalarType.Float64);
        foreach (long t in new long[] { s.Timesteps[0], s.Timesteps[7], s.Timesteps[19] })
        {
            var tt = tensor(new[] { t });
            var xt = s.AddNoise(x0, eps, tt);
            var output = prediction switch
            {
                PredictionType.Epsilon => eps,
                PredictionType.Sample => x0,
                _ => s.GetVelocity(x0, eps, tt),
            };
            var result = s.Step(output, t, xt);
            long prev = s.PreviousTimestep(t);
            var expectedPrev = prev >= 0 ? s.AddNoise(x0, eps, tensor(new[] { prev })) : x0; // final alpha-bar is 1
            ParityCase.AssertClose($"x0 at {t}", result.PredOriginalSample, x0, 1e-5, 1e-5);
            ParityCase.AssertClose($"x_prev at {t}", result.PrevSample, expectedPrev, 1e-5, 1e-5);
        }
    }

    [Fact]
    public void Step_WithEta_UsesTheGivenNoise_OrTheGeneratorDeterministically()
    {
        var s = new DDIMScheduler();
        s.SetTimesteps(10);
        var x = Randn(3, 1, 3, 4, 4);
        var eps = Randn(4, 1, 3, 4, 4);
        var z = Randn(5, 1, 3, 4, 4);
        var deterministic = s.Step(eps, 500, x).PrevSample;
        var withZ = s.Step(eps, 500, x, eta: 1.0, varianceNoise: z).PrevSample;
        var withZeroNoise = s.Step(eps, 500, x, eta: 1.0, varianceNoise: zeros_like(z)).PrevSample;
        var a = s.Step(eps, 500, x, eta: 0.5, generator: new Generator(7)).PrevSample;
        var b = s.Step(eps, 500, x, eta: 0.5, generator: new Generator(7)).PrevSample;

        Assert.False(withZ.allclose(deterministic));
        Assert.False(withZeroNoise.allclose(deterministic)); // eta also shrinks the direction term
        Assert.True(a.eq(b).all().item<bool>());
        // sigma_t * z is exactly the difference the noise makes.
        float aT = s.AlphasCumprod[500].item<float>(), aP = s.AlphasCumprod[400].item<float>();
        double sigma = Math.Sqrt((1 - aP) / (1 - aT) * (1 - aT / aP));
        ParityCase.AssertClose("sigma z", withZ - withZeroNoise, sigma * z, 1e-5, 1e-5);
    }

    [Fact]
    public void Timesteps_MatchDiffusersForStableDiffusionAndTrailing()
    {
        var sd = new DDIMScheduler(new DDIMSchedulerConfig { StepsOffset = 1, SetAlphaToOne = false });
        sd.SetTimesteps(4);
        Assert.Equal([751L, 501, 251, 1], sd.Timesteps);
        var trailing = new DDIMScheduler(new DDIMSchedulerConfig { TimestepSpacing = TimestepSpacing.Trailing });
        trailing.SetTimesteps(61); // numpy's arange yields 62 values here, the last a timestep of -1
        Assert.Equal(61, trailing.Timesteps.Count);
        Assert.Equal(999, trailing.Timesteps[0]);
        Assert.Equal(15, trailing.Timesteps[^1]);
        var linspace = new DDIMScheduler(new DDIMSchedulerConfig { TimestepSpacing = TimestepSpacing.Linspace });
        linspace.SetTimesteps(7); // 999 / 6 = 166.5 rounds half to even
        Assert.Equal([999L, 832, 666, 500, 333, 166, 0], linspace.Timesteps);
    }

    [Fact]
    public void SetTimesteps_AnySpacing_GivesNStrictlyDescendingTrainingTimesteps()
    {
        // linspace with one step is numpy's linspace(0, T - 1, 1) = [0] in diffusers: the schedule starts at 0 then.
        SeededSample.Run(Gen.Select(Gen.Int[1, 1000], Gen.Int[1, 1000], Gen.Enum<TimestepSpacing>()).Where((T, n, _) => n <= T),
            v =>
            {
                var (T, n, spacing) = v;
                var s = new DDIMScheduler(new DDIMSchedulerConfig { NumTrainTimesteps = T, TimestepSpacing = spacing, BetaSchedule = BetaSchedule.SquaredcosCapV2 });
                s.SetTimesteps(n);
                var ts = s.Timesteps;
                Assert.Equal(n, ts.Count);
                Assert.All(ts, t => Assert.InRange(t, 0, T - 1));
                Assert.True(ts.Zip(ts.Skip(1)).All(p => p.First > p.Second), "strictly descending");
                long first = spacing == TimestepSpacing.Linspace && n == 1 ? 0 : T - 1;
                if (spacing != TimestepSpacing.Leading) Assert.Equal(first, ts[0]);
            }, seed: 20261126, iterations: 400);
    }

    [Fact]
    public void Step_LongLoop_LeavesNoLiveTensorsBehind()
    {
        var s = new DDIMScheduler(new DDIMSchedulerConfig { Thresholding = true, PredictionType = PredictionType.Sample });
        s.SetTimesteps(200);
        using var outer = NewDisposeScope();
        var x = Randn(12, 2, 3, 8, 8);
        var output = Randn(13, 2, 3, 8, 8);
        var generator = new Generator(3);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        foreach (long t in s.Timesteps)
        {
            using var scope = NewDisposeScope();
            var result = s.Step(output, t, x, eta: 0.5, generator: generator);
            _ = s.AddNoise(result.PredOriginalSample, output, tensor(new[] { t }));
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.False(x.IsInvalid);
        Assert.False(output.IsInvalid);
    }

    // ---- forward process ----

    [Fact]
    public void AddNoise_BroadcastsOneTimestepPerSample_AndKeepsFloat64()
    {
        var s = new DDIMScheduler();
        var x0 = Randn(8, 2, 3, 4, 4).to(ScalarType.Float64);
        var eps = Randn(9, 2, 3, 4, 4).to(ScalarType.Float64);
        var xt = s.AddNoise(x0, eps, tensor(new long[] { 0, 999 }));
        Assert.Equal(ScalarType.Float64, xt.dtype);
        double a0 = s.AlphasCumprod[0].item<float>(), a999 = s.AlphasCumprod[999].item<float>();
        ParityCase.AssertClose("t=0", xt[0], Math.Sqrt(a0) * x0[0] + Math.Sqrt(1 - a0) * eps[0], 1e-12, 1e-12);
        ParityCase.AssertClose("t=999", xt[1], Math.Sqrt(a999) * x0[1] + Math.Sqrt(1 - a999) * eps[1], 1e-12, 1e-12);
    }

    // ---- bad input ----

    [Theory]
    [InlineData("beta_schedule", "cosine", "linear, scaled_linear, squaredcos_cap_v2")]
    [InlineData("prediction_type", "v", "epsilon, sample, v_prediction")]
    [InlineData("timestep_spacing", "uniform", "leading, trailing, linspace")]
    public void FromJson_UnknownOption_ListsTheAllowedValues(string key, string value, string allowed)
    {
        var ex = Assert.Throws<ArgumentException>(() => DDIMSchedulerConfig.FromJson($$"""{"{{key}}": "{{value}}"}"""));
        Assert.Contains(key, ex.Message);
        Assert.Contains($"'{value}'", ex.Message);
        Assert.Contains(allowed, ex.Message);
    }

    [Fact]
    public void Constructor_UndefinedEnumValue_ListsTheAllowedValues()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DDIMScheduler(new DDIMSchedulerConfig { PredictionType = (PredictionType)9 }));
        Assert.Contains("epsilon, sample, v_prediction", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(1001)]
    public void SetTimesteps_OutOfRange_Throws(int n)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DDIMScheduler().SetTimesteps(n));
        Assert.Contains("num_inference_steps", ex.Message);
        Assert.Contains("1000", ex.Message);
    }

    [Fact]
    public void Step_BeforeSetTimesteps_Throws()
    {
        var x = zeros(1, 3, 4, 4);
        var ex = Assert.Throws<InvalidOperationException>(() => new DDIMScheduler().Step(x, 999, x));
        Assert.Contains("SetTimesteps", ex.Message);
    }

    [Fact]
    public void Step_BadArguments_NameTheProblem()
    {
        var s = new DDIMScheduler();
        s.SetTimesteps(10);
        var x = zeros(1, 3, 4, 4);
        var shape = Assert.Throws<ArgumentException>(() => s.Step(zeros(1, 4, 4, 4), 900, x));
        Assert.Contains("(1, 4, 4, 4)", shape.Message);
        var notInSchedule = Assert.Throws<ArgumentException>(() => s.Step(x, 901, x));
        Assert.Contains("901", notInSchedule.Message);
        Assert.Contains("not in the schedule", notInSchedule.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x, 1000, x, prevTimestep: 900));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x, 900, x, eta: -1));
        var both = Assert.Throws<ArgumentException>(() => s.Step(x, 900, x, eta: 1, varianceNoise: x, generator: new Generator(1)));
        Assert.Contains("generator", both.Message);
    }

    [Fact]
    public void SetTimesteps_StepsOffsetPastTheEnd_Throws()
    {
        var s = new DDIMScheduler(new DDIMSchedulerConfig { StepsOffset = 1 });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => s.SetTimesteps(1000));
        Assert.Contains("steps_offset", ex.Message);
    }

    // ---- config ----

    [Fact]
    public void Config_RoundTrip_KeepsEveryFieldAndUnknownKeys()
    {
        var config = new DDIMSchedulerConfig
        {
            DiffusersVersion = "0.40.0.dev0", NumTrainTimesteps = 10, BetaStart = 0.001, BetaEnd = 0.03,
            BetaSchedule = BetaSchedule.ScaledLinear, TrainedBetas = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.4],
            ClipSample = false, ClipSampleRange = 2.5, SetAlphaToOne = false, StepsOffset = 1,
            PredictionType = PredictionType.VPrediction, Thresholding = true, DynamicThresholdingRatio = 0.9,
            SampleMaxValue = 3.0, TimestepSpacing = TimestepSpacing.Trailing, RescaleBetasZeroSnr = true,
            ExtensionData = new() { ["future_option"] = JsonDocument.Parse("""{"a": [1, 2]}""").RootElement.Clone() },
        };
        var json = config.ToJson();
        var back = DDIMSchedulerConfig.FromJson(json);

        Assert.Equal(config with { TrainedBetas = null, ExtensionData = null }, back with { TrainedBetas = null, ExtensionData = null });
        Assert.Equal(config.TrainedBetas, back.TrainedBetas);
        Assert.Equal("""{"a":[1,2]}""", JsonSerializer.Serialize(back.ExtensionData!["future_option"]));
        Assert.Equal(json, back.ToJson());
        Assert.Contains("\"beta_schedule\": \"scaled_linear\"", json);
        Assert.Contains("\"_class_name\": \"DDIMScheduler\"", json);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Config_FixtureFile_ReadsAndWritesTheSameJson(string name)
    {
        var path = FixtureRoot.Combine(name, "scheduler_config.json");
        var original = JsonNode.Parse(File.ReadAllText(path))!;
        var written = JsonNode.Parse(DDIMSchedulerConfig.Load(path).ToJson())!;
        Assert.True(JsonNode.DeepEquals(original, written), $"written: {written.ToJsonString()}");
    }

    [Fact]
    public void Config_SaveAndLoad_ThroughAFolder()
    {
        var dir = Directory.CreateTempSubdirectory("sv-ddim-");
        try
        {
            var config = new DDIMSchedulerConfig { StepsOffset = 1, BetaSchedule = BetaSchedule.ScaledLinear };
            config.Save(Path.Combine(dir.FullName, "scheduler_config.json"));
            var s = DDIMScheduler.FromConfigFile(dir.FullName);
            Assert.Equal(config, s.Config with { ExtensionData = null });
            Assert.Throws<FileNotFoundException>(() => DDIMSchedulerConfig.Load(Path.Combine(dir.FullName, "missing.json")));
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Config_Defaults_AreDiffusers()
    {
        var d = DDIMSchedulerConfig.FromJson("{}");
        Assert.Equal(new DDIMSchedulerConfig(), d with { ExtensionData = null });
        Assert.Equal((1000, 0.0001, 0.02, BetaSchedule.Linear, true, true, 0, PredictionType.Epsilon, TimestepSpacing.Leading),
            (d.NumTrainTimesteps, d.BetaStart, d.BetaEnd, d.BetaSchedule, d.ClipSample, d.SetAlphaToOne, d.StepsOffset, d.PredictionType, d.TimestepSpacing));
        Assert.Equal((false, 0.995, 1.0, 1.0, false), (d.Thresholding, d.DynamicThresholdingRatio, d.SampleMaxValue, d.ClipSampleRange, d.RescaleBetasZeroSnr));
    }
}
