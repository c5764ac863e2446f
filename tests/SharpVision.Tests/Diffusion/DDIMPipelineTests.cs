using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using static SharpVision.Tests.Diffusion.TinyDiffusion;

namespace SharpVision.Tests.Diffusion;

public sealed class DDIMPipelineTests
{
    [Fact]
    public void SameSeedWithEtaZeroIsBitIdentical_OtherSeedDiffers()
    {
        using var unet = Model();
        var pipe = new DDIMPipeline(unet, new DDIMScheduler(Ddim()));
        using var a = pipe.Sample(new SamplingOptions(Count: 3, Steps: 10, Seed: 7));
        using var b = pipe.Sample(new SamplingOptions(Count: 3, Steps: 10, Seed: 7));
        using var c = pipe.Sample(new SamplingOptions(Count: 3, Steps: 10, Seed: 8));
        Assert.Equal([3L, 1, 8, 8], a.shape);
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
    }

    [Fact]
    public void EtaOneIsReproducibleFromTheSeedAndDiffersFromEtaZero()
    {
        using var unet = Model();
        var pipe = new DDIMPipeline(unet, new DDIMScheduler(Ddim()));
        using var a = pipe.Sample(new SamplingOptions(Count: 2, Steps: 5, Eta: 1, Seed: 3));
        using var b = pipe.Sample(new SamplingOptions(Count: 2, Steps: 5, Eta: 1, Seed: 3));
        using var z = pipe.Sample(new SamplingOptions(Count: 2, Steps: 5, Eta: 0, Seed: 3));
        Assert.True(Same(a, b));
        Assert.False(Same(a, z));
    }

    [Fact]
    public void SampleEqualsAHandWrittenLoopFromTheSameNoise()
    {
        using var unet = Model();
        var scheduler = new DDIMScheduler(Ddim());
        using var sampled = new DDIMPipeline(unet, scheduler).Sample(new SamplingOptions(Count: 2, Steps: 4, Seed: 11));

        using var g = new Generator(11);
        using var noGrad = no_grad();
        var x = randn([2, 1, 8, 8], generator: g);
        scheduler.SetTimesteps(4);
        foreach (long t in scheduler.Timesteps) x = scheduler.Step(unet.forward(x, t), t, x).PrevSample;
        Assert.True(Same(sampled, x));
    }

    [Fact]
    public void ManyStepsKeepTheLiveTensorCountFlat()
    {
        using var unet = Model(numClassEmbeds: 3);
        var pipe = new DDIMPipeline(unet, new DDIMScheduler(Ddim()));
        var counts = new List<long>();
        using var outer = NewDisposeScope();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var result = pipe.Sample(new SamplingOptions(Count: 2, Steps: 40, Eta: 0.5, ClassLabels: [0, 1], GuidanceScale: 2),
            p => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        Assert.Equal(40, counts.Count);
        Assert.All(counts, c => Assert.Equal(counts[0], c));
        // Only the result survives the call.
        Assert.Equal(before + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.False(result.IsInvalid);
    }

    [Fact]
    public void ProgressReportsEveryStepWithItsTimestep()
    {
        using var unet = Model();
        var scheduler = new DDIMScheduler(Ddim());
        var seen = new List<SamplingProgress>();
        using var _ = new DDIMPipeline(unet, scheduler).Sample(new SamplingOptions(Count: 1, Steps: 5), seen.Add);
        Assert.Equal(Enumerable.Range(1, 5), seen.Select(p => p.Step));
        Assert.All(seen, p => Assert.Equal(5, p.Steps));
        Assert.Equal(scheduler.Timesteps, seen.Select(p => p.Timestep));
    }

    [Fact]
    public void RestoresTheModelsTrainingMode()
    {
        using var unet = Model();
        unet.train();
        using var _ = new DDIMPipeline(unet, new DDIMScheduler(Ddim())).Sample(new SamplingOptions(Count: 1, Steps: 2));
        Assert.True(unet.training);
    }

    [Fact]
    public void ASizeThatDoesNotFitTheModelGivesBothShapes()
    {
        using var unet = Model();
        var pipe = new DDIMPipeline(unet, new DDIMScheduler(Ddim()));
        var e = Assert.ThrowsAny<ArgumentException>(() => pipe.Sample(new SamplingOptions(Count: 2, Steps: 2, Height: 7, Width: 8)));
        Assert.Contains("(B, 1, H, W) with H and W multiples of 2", e.Message);
        Assert.Contains("(2, 1, 7, 8)", e.Message);
    }
}
