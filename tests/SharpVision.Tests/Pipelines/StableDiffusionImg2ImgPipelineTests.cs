using SharpVision.Diffusion.Pipelines;
using static SharpVision.Tests.Pipelines.StableDiffusionPipelineTests;

namespace SharpVision.Tests.Pipelines;

public sealed class StableDiffusionImg2ImgPipelineTests
{
    static Tensor Image() => torch.rand([1, 3, 16, 16], generator: new Generator(5));

    [Theory]
    [InlineData(1.0, 10)]
    [InlineData(0.6, 6)]
    [InlineData(0.25, 2)]
    public void StrengthRunsTheLastPartOfTheSchedule(double strength, int steps)
    {
        var pipe = StableDiffusionImg2ImgPipeline.FromPretrained(Folder);
        var visited = new List<long>();
        var output = pipe.Call(Embeds(1, 1), Embeds(1, 2), Image(), new StableDiffusionImg2ImgOptions { NumInferenceSteps = 10, Strength = strength },
            new Generator(1), p => visited.Add(p.Timestep));
        Assert.Equal(steps, visited.Count);
        Assert.Equal(pipe.Scheduler.Timesteps.Skip(10 - steps).Select(t => (long)t), visited);
        Assert.Equal([1L, 3, 16, 16], output.Images!.shape);
    }

    [Fact]
    public void GivenNoisesEqualTheGeneratorsDraws()
    {
        var pipe = StableDiffusionImg2ImgPipeline.FromPretrained(Folder);
        var options = new StableDiffusionImg2ImgOptions { NumInferenceSteps = 4, Strength = 0.5 };
        var drawn = pipe.Call(Embeds(1, 1), Embeds(1, 2), Image(), options, new Generator(9));
        var g = new Generator(9);
        var posterior = torch.randn([1, 4, 8, 8], generator: g);
        var noise = torch.randn([1, 4, 8, 8], generator: g);
        var given = pipe.Call(Embeds(1, 1), Embeds(1, 2), Image(), options with { ImageLatentNoise = posterior, Noise = noise });
        Assert.True(drawn.Latents.eq(given.Latents).all().item<bool>());
    }

    [Fact]
    public void BadStrengthIsNamed()
    {
        var pipe = StableDiffusionImg2ImgPipeline.FromPretrained(Folder);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipe.Call(Embeds(1, 1), Embeds(1, 2), Image(), new StableDiffusionImg2ImgOptions { Strength = 1.5 }));
        var none = Assert.Throws<ArgumentException>(() =>
            pipe.Call(Embeds(1, 1), Embeds(1, 2), Image(), new StableDiffusionImg2ImgOptions { NumInferenceSteps = 4, Strength = 0.1 }));
        Assert.Contains("no denoising step", none.Message);
    }
}
