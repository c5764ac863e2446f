using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using static SharpVision.Tests.Diffusion.TinyDiffusion;

namespace SharpVision.Tests.Diffusion;

public sealed class UNet2DPipelineTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void WithADdimSchedulerItEqualsTheDdimPipelineBitForBit(double eta)
    {
        using var unet = Model(numClassEmbeds: 3);
        var options = new SamplingOptions(Count: 2, Steps: 5, Eta: eta, Seed: 4, ClassLabels: [0, 1], GuidanceScale: 2.0);
        using var ddim = new DDIMPipeline(unet, new DDIMScheduler(Ddim())).Sample(options);
        using var generic = new UNet2DPipeline(unet, new DDIMScheduler(Ddim())).Sample(options);
        Assert.True(Same(ddim, generic));
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("heun")]
    [InlineData("dpm++2m-karras")]
    [InlineData("unipc")]
    [InlineData("euler-ancestral")]
    [InlineData("pndm")]
    public void EveryPresetSamplesTheTrainedScheduleReproduciblyFromTheSeed(string preset)
    {
        var dir = TempDir("unet2dpipe");
        try
        {
            Ddpm().Save(Path.Combine(dir, SchedulerConfigJson.FileName));
            var scheduler = SchedulerPresets.FromConfigFile(dir, preset);
            Assert.Equal(50, scheduler.Config.NumTrainTimesteps); // the trained schedule carried over
            using var unet = Model();
            var pipe = new UNet2DPipeline(unet, scheduler);
            using var a = pipe.Sample(new SamplingOptions(Count: 2, Steps: 4, Seed: 9));
            using var b = pipe.Sample(new SamplingOptions(Count: 2, Steps: 4, Seed: 9));
            Assert.Equal([2L, 1, 8, 8], a.shape);
            Assert.True(a.isfinite().all().item<bool>());
            Assert.True(Same(a, b));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ModelCallBudgetsCountHeunsTwoEvaluationsPerStep()
    {
        using var unet = Model();
        var heun = new UNet2DPipeline(unet, SchedulerFactory.Create(SchedulerFactory.ReadConfig(Ddpm().ToJson(), "HeunDiscreteScheduler")));
        Assert.Equal(9, heun.ModelCalls(5));
        Assert.Equal(5, heun.StepsForModelCalls(10));
        Assert.Equal(1, heun.StepsForModelCalls(1));
        var euler = new UNet2DPipeline(unet, SchedulerFactory.Create(SchedulerFactory.ReadConfig(Ddpm().ToJson(), "EulerDiscreteScheduler")));
        Assert.Equal(10, euler.StepsForModelCalls(10));
    }

    [Fact]
    public void AnUnknownPresetListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => SchedulerPresets.Resolve("dpm++9m"));
        Assert.Contains("dpm++2m-karras", e.Message);
        Assert.Contains("EulerDiscreteScheduler", e.Message);
        Assert.Equal("EulerDiscreteScheduler", SchedulerPresets.Resolve("eulerdiscretescheduler").ClassName);
        Assert.True(SchedulerPresets.Resolve("DPM++2M-Karras").Overrides["use_karras_sigmas"]!.GetValue<bool>());
    }
}
