using SharpVision.Diffusion.Pipelines;

namespace SharpVision.Tests.Pipelines;

public sealed class StableDiffusionPipelineTests
{
    internal static string Folder => FixtureRoot.Combine("sdpipe", "sd_controlnet_ddim");

    /// <summary>(B, 7, 12) embeddings for the tiny pipeline's UNet (cross_attention_dim 12).</summary>
    internal static Tensor Embeds(long batch, int seed) => torch.randn([batch, 7, 12], generator: new Generator((ulong)seed));

    static StableDiffusionPipeline Pipeline() => StableDiffusionPipeline.FromPretrained(Folder);

    [Fact]
    public void ImagesPerPromptRepeatEachPromptAndGivenLatentsFixTheResult()
    {
        var pipe = Pipeline();
        var latents = torch.randn([1, 4, 8, 8], generator: new Generator(3));
        var options = new StableDiffusionOptions { NumInferenceSteps = 3, Height = 16, Width = 16, Latents = latents };
        var one = pipe.Call(Embeds(1, 1), Embeds(1, 2), options);
        var two = pipe.Call(Embeds(1, 1), Embeds(1, 2), options with { NumImagesPerPrompt = 2, Latents = torch.cat([latents, latents]) });
        Assert.Equal([1L, 3, 16, 16], one.Images!.shape);
        Assert.Equal([2L, 3, 16, 16], two.Images!.shape);
        Assert.True(one.Images.allclose(two.Images[..1], 1e-5, 1e-6));
        Assert.True(two.Images[..1].allclose(two.Images[1..], 1e-5, 1e-6));
        Assert.True(one.Images.min().item<float>() >= 0 && one.Images.max().item<float>() <= 1);
    }

    [Fact]
    public void ASeededGeneratorDrawsTheSameLatentsAndLatentOutputSkipsDecoding()
    {
        var pipe = Pipeline();
        var options = new StableDiffusionOptions { NumInferenceSteps = 2, GuidanceScale = 1.0, DecodeImages = false };
        var a = pipe.Call(Embeds(1, 1), null, options, new Generator(7));
        var b = pipe.Call(Embeds(1, 1), null, options, new Generator(7));
        Assert.Null(a.Images);
        Assert.Equal([1L, 4, 8, 8], a.Latents.shape); // sample_size 8 latents by default
        Assert.True(a.Latents.eq(b.Latents).all().item<bool>());
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        var pipe = Pipeline();
        var noNegative = Assert.Throws<ArgumentException>(() => pipe.Call(Embeds(1, 1), null, new StableDiffusionOptions { NumInferenceSteps = 1 }));
        Assert.Contains("negativePromptEmbeds", noNegative.Message);
        var size = Assert.Throws<ArgumentException>(() => pipe.Call(Embeds(1, 1), Embeds(1, 2), new StableDiffusionOptions { Height = 12, Width = 16 }));
        Assert.Contains("multiples of 8", size.Message);
        var dim = Assert.Throws<ArgumentException>(() => pipe.Call(torch.zeros(1, 7, 5), null, new StableDiffusionOptions { GuidanceScale = 1 }));
        Assert.Contains("(B, M, 12)", dim.Message);
        var latents = Assert.Throws<ArgumentException>(() =>
            pipe.Call(Embeds(1, 1), Embeds(1, 2), new StableDiffusionOptions { NumInferenceSteps = 1, Latents = torch.zeros(1, 4, 4, 4) }));
        Assert.Contains("latents must be (1, 4, 8, 8)", latents.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipe.Call(Embeds(1, 1), Embeds(1, 2), new StableDiffusionOptions { NumInferenceSteps = 0 }));
    }
}
