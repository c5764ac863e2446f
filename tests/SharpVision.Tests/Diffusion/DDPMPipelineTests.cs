using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using static SharpVision.Tests.Diffusion.TinyDiffusion;

namespace SharpVision.Tests.Diffusion;

public sealed class DDPMPipelineTests
{
    [Fact]
    public void FullChainIsReproducibleFromTheSeedAndRunsEveryTimestep()
    {
        using var unet = Model();
        var pipe = new DDPMPipeline(unet, new DDPMScheduler(Ddpm()));
        var steps = new List<long>();
        using var a = pipe.Sample(new SamplingOptions(Count: 2, Steps: 50, Seed: 4), p => steps.Add(p.Timestep));
        using var b = pipe.Sample(new SamplingOptions(Count: 2, Steps: 50, Seed: 4));
        using var c = pipe.Sample(new SamplingOptions(Count: 2, Steps: 50, Seed: 5));
        Assert.Equal(Enumerable.Range(0, 50).Reverse().Select(t => (long)t), steps);
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
        Assert.True(a.isfinite().all().item<bool>());
    }

    [Fact]
    public void EqualsAHandWrittenAncestralLoop()
    {
        using var unet = Model();
        var scheduler = new DDPMScheduler(Ddpm());
        using var sampled = new DDPMPipeline(unet, scheduler).Sample(new SamplingOptions(Count: 1, Steps: 10, Seed: 2));
        using var g = new Generator(2);
        using var noGrad = no_grad();
        var x = randn([1, 1, 8, 8], generator: g);
        scheduler.SetTimesteps(10);
        foreach (long t in scheduler.Timesteps) x = scheduler.Step(unet.forward(x, t), t, x, generator: g).PrevSample;
        Assert.True(Same(sampled, x));
    }

    [Fact]
    public void ManyStepsKeepTheLiveTensorCountFlat()
    {
        using var unet = Model(numClassEmbeds: 3);
        var pipe = new DDPMPipeline(unet, new DDPMScheduler(Ddpm()));
        var counts = new List<long>();
        using var outer = NewDisposeScope();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        _ = pipe.Sample(new SamplingOptions(Count: 2, Steps: 50, ClassLabels: [1, 2], GuidanceScale: 1.5),
            p => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        Assert.All(counts, c => Assert.Equal(counts[0], c));
        Assert.Equal(before + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
