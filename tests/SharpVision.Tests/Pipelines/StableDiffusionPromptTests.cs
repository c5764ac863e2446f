using SharpVision.Diffusion.Pipelines;

namespace SharpVision.Tests.Pipelines;

/// <summary>The prompt-level calls (<see cref="StableDiffusionPipelineBase.EncodePrompt"/>, <c>Call(prompt, …)</c>) on the sdfull tiny folder.</summary>
public sealed class StableDiffusionPromptTests
{
    static string Folder => FixtureRoot.Combine("sdfull", "sd_tiny_prompt_to_image");

    [Fact]
    public void APromptPastSeventySevenTokensIsCutWithAWarningQuotingTheDroppedText()
    {
        var pipe = StableDiffusionPipeline.FromPretrained(Folder);
        var words = string.Join(' ', Enumerable.Repeat("a photo of a cat", 20)); // 100 BPE tokens
        var text = pipe.EncodePrompt([words + " lighthouse"]);
        Assert.Equal([1L, 77], text.InputIds.shape);
        var warning = Assert.Single(text.Warnings);
        Assert.StartsWith("The following part of your input was truncated because CLIP can only handle sequences up to 77 tokens: ", warning);
        Assert.EndsWith("lighthouse", warning.TrimEnd());
        Assert.Empty(pipe.EncodePrompt(["a photo of a cat"]).Warnings);
    }

    [Fact]
    public void ImagesPerPromptRepeatThePromptAndNoGuidanceNeedsNoNegative()
    {
        var pipe = StableDiffusionPipeline.FromPretrained(Folder);
        var unguided = pipe.EncodePrompt(["a photo of a cat"], guided: false);
        Assert.Null(unguided.NegativePromptEmbeds);
        var options = new StableDiffusionOptions { NumInferenceSteps = 2, Height = 32, Width = 32, NumImagesPerPrompt = 2 };
        var latents = torch.randn([1, 4, 16, 16], generator: new Generator(5));
        var two = pipe.Call("a photo of a cat", "blurry", options with { Latents = torch.cat([latents, latents]) });
        var one = pipe.Call("a photo of a cat", "blurry", options with { NumImagesPerPrompt = 1, Latents = latents });
        Assert.Equal([2L, 3, 32, 32], two.Images!.shape);
        Assert.True(two.Images[..1].allclose(one.Images!, 1e-5, 1e-6));
        Assert.True(two.Images[1..].allclose(one.Images!, 1e-5, 1e-6));
        var negative = pipe.EncodePrompt(["a photo of a cat"], ["blurry"]).NegativePromptEmbeds!;
        Assert.False(negative.allclose(pipe.EncodePrompt(["a photo of a cat"]).NegativePromptEmbeds!));
    }

    [Fact]
    public void ClipSkipTakesAnEarlierLayerAndAFolderWithoutATextEncoderSaysSo()
    {
        var pipe = StableDiffusionPipeline.FromPretrained(Folder);
        var last = pipe.EncodePrompt(["a photo of a cat"]);
        var skipped = pipe.EncodePrompt(["a photo of a cat"], clipSkip: 1);
        Assert.False(last.PromptEmbeds.allclose(skipped.PromptEmbeds));
        Assert.True(last.NegativePromptEmbeds!.allclose(skipped.NegativePromptEmbeds!)); // diffusers skips no layer of the negative prompt
        Assert.Throws<ArgumentOutOfRangeException>(() => pipe.EncodePrompt(["a"], clipSkip: 99));
        var embeddingsOnly = StableDiffusionPipeline.FromPretrained(StableDiffusionPipelineTests.Folder);
        Assert.Null(embeddingsOnly.TextEncoder);
        var e = Assert.Throws<InvalidOperationException>(() => embeddingsOnly.Call("a cat"));
        Assert.Contains("tokenizer", e.Message);
    }
}
