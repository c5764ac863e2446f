using SharpVision.Cli.Commands;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Output;
using SharpVision.Tests.Pipelines;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

/// <summary><c>sharpvision generate</c> on the sdfull tiny Stable Diffusion folders: diffusers' image, the PNG's parameters, bad input.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class GenerateCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-generate-").FullName;

    static string Plain => FixtureRoot.Combine("sdfull", "sd_tiny_prompt_to_image");
    static string WithControlNet => FixtureRoot.Combine("sdfull", "sd_tiny_controlnet_prompt_to_image");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Out(string name) => Path.Combine(dir, name);

    /// <summary>The fixture case's own generation: prompt, seed, steps, guidance and size from its case.json.</summary>
    static string[] Generate(string folder, string outPath, params string[] more)
    {
        using var c = ParityCase.Load(Path.GetRelativePath(FixtureRoot.Path, folder).Replace('\\', '/'));
        string[] args = ["generate", "--model", folder, "--prompt", c.String("prompt")!, "--steps", c.Long("num_inference_steps")!.ToString()!,
            "--guidance", c.Double("guidance_scale")!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seed", c.Long("seed")!.ToString()!, "--width", c.Long("width")!.ToString()!, "--height", c.Long("height")!.ToString()!, "--out", outPath];
        return c.String("negative_prompt") is { Length: > 0 } negative ? [.. args, "--negative-prompt", negative, .. more] : [.. args, .. more];
    }

    static void AssertSamePng(string expectedPath, string actualPath)
    {
        var (expected, eh, ew) = Images.LoadRgb(expectedPath);
        var (actual, ah, aw) = Images.LoadRgb(actualPath);
        Assert.Equal((eh, ew), (ah, aw));
        int worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= StableDiffusionPromptParity.PngChannelTolerance, $"{actualPath}: a channel differs from {expectedPath} by {worst}/255");
    }

    static string Parameters(string png) => PngText.Read(File.ReadAllBytes(png)).Single(kv => kv.Key == "parameters").Value;

    [Fact]
    public void ReproducesDiffusersImageAndRecordsTheParameters()
    {
        var r = Run(Generate(Plain, Out("cat.png")));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("", r.Err);
        AssertSamePng(Path.Combine(Plain, "expected.png"), Out("cat.png"));
        Assert.Equal("a photo of a cat\nSteps: 5, Sampler: PNDMScheduler, CFG scale: 7.5, Seed: 1234, Size: 32x32, Model: sd_tiny_prompt_to_image",
            Parameters(Out("cat.png")));
        Assert.Contains($"Wrote {Out("cat.png")}", r.Out);
    }

    [SkippableFact]
    public void ReproducesDiffusersControlNetImage()
    {
        Skip.IfNot(SchedulerFactory.ClassNames.Contains("EulerAncestralDiscreteScheduler"), "EulerAncestralDiscreteScheduler is not registered in SchedulerFactory yet");
        var r = Run(Generate(WithControlNet, Out("lighthouse.png"), "--controlnet", Path.Combine(WithControlNet, "controlnet"),
            "--control", Path.Combine(WithControlNet, "control.png")));
        Assert.True(r.Code == 0, r.Err);
        AssertSamePng(Path.Combine(WithControlNet, "expected.png"), Out("lighthouse.png"));
        Assert.StartsWith("a watercolor painting of a lighthouse\nNegative prompt: blurry\nSteps: 4, Sampler: EulerAncestralDiscreteScheduler, CFG scale: 6, Seed: 7",
            Parameters(Out("lighthouse.png")));
    }

    [Fact]
    public void CannyWritesTheEdgeMapBesideTheOutputAndBatchesWriteNumberedFiles()
    {
        var r = Run(Generate(WithControlNet, Out("edges.png"), "--scheduler", "DDIMScheduler", "--steps", "2", "--batch", "2",
            "--controlnet", Path.Combine(WithControlNet, "controlnet"), "--canny", Path.Combine(WithControlNet, "control.png"), "--control-scale", "0.5"));
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(GenerateCommand.CannyPath(Out("edges.png"))));
        Assert.Equal(Out("edges.canny.png"), GenerateCommand.CannyPath(Out("edges.png")));
        Assert.False(File.Exists(Out("edges.png")));
        var first = Parameters(Out("edges-1.png"));
        Assert.Contains("Sampler: DDIMScheduler", first);
        Assert.Contains("ControlNet: controlnet (scale 0.5, 0-1)", first);
        Assert.Contains("Batch size: 2, Batch pos: 1", Parameters(Out("edges-2.png")));
    }

    [Fact]
    public void InitImageRunsImageToImageInBfloat16WithClipSkip()
    {
        var r = Run("generate", "--model", Plain, "--prompt", "a photo of a cat", "--init-image", Path.Combine(Plain, "expected.png"),
            "--strength", "0.5", "--steps", "4", "--seed", "3", "--dtype", "bf16", "--clip-skip", "1", "--out", Out("again.png"));
        Assert.True(r.Code == 0, r.Err);
        var (_, h, w) = Images.LoadRgb(Out("again.png"));
        Assert.Equal((32, 32), (h, w));
        var parameters = Parameters(Out("again.png"));
        Assert.Contains("Seed: 3, Size: 32x32", parameters);
        Assert.EndsWith("Clip skip: 2, Denoising strength: 0.5", parameters);
    }

    [Fact]
    public void TwoControlNetsTakeOneConditionEachWithGuessModeAndAWindow()
    {
        var controlnet = Path.Combine(WithControlNet, "controlnet");
        var control = Path.Combine(WithControlNet, "control.png");
        var r = Run(Generate(WithControlNet, Out("two.png"), "--scheduler", "DDIMScheduler", "--steps", "2",
            "--controlnet", $"{controlnet},{controlnet}", "--control", $"{control},{control}", "--control-scale", "0.5,0.25",
            "--guess-mode", "--control-start", "0", "--control-end", "0.5"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("ControlNet: controlnet + controlnet (scale 0.5/0.25, guess mode, 0-0.5)", Parameters(Out("two.png")));
        AssertUserError(Run(Generate(WithControlNet, Out("x.png"), "--controlnet", $"{controlnet},{controlnet}", "--control", control)),
            "--control lists 1 images for 2 ControlNets");
    }

    [Fact]
    public void APromptPastSeventySevenTokensGeneratesWithAWarningQuotingTheDroppedText()
    {
        var prompt = string.Join(' ', Enumerable.Repeat("a photo of a cat", 20)) + " lighthouse";
        var r = Run("generate", "--model", Plain, "--prompt", prompt, "--steps", "1", "--seed", "1", "--out", Out("long.png"));
        Assert.True(r.Code == 0, r.Err);
        var warning = Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("truncated because CLIP can only handle sequences up to 77 tokens", warning);
        Assert.EndsWith("lighthouse", warning.TrimEnd());
        Assert.True(File.Exists(Out("long.png")));
    }

    public static TheoryData<string, string> BadInputs() => new()
    {
        { "--width 33 --height 32", "--width and --height must be positive multiples of 8; got 33x32" },
        { "--scheduler NoSuchScheduler", "unknown --scheduler 'NoSuchScheduler'; known: DDIM" },
        { "--dtype fp8", "--dtype must be fp32 or bf16" },
        { "--controlnet OTHER --control IMAGE", "differs from the UNet's" },
        { "--controlnet NOWHERE --canny IMAGE", "--controlnet: folder not found" },
        { "--canny IMAGE", "--control and --canny need --controlnet DIR" },
        { "--init-image IMAGE --width 32 --height 32", "--width/--height do not apply to --init-image" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputExitsTwoWithOneLine(string options, string expected)
    {
        var words = options.Split(' ').Select(w => w switch
        {
            "OTHER" => FixtureRoot.Combine("sdpipe", "sd_controlnet_ddim", "controlnet"), // cross_attention_dim 12, the UNet's 32
            "IMAGE" => Path.Combine(WithControlNet, "control.png"),
            "NOWHERE" => Out("no-controlnet"),
            _ => w,
        });
        var r = Run(["generate", "--model", Plain, "--prompt", "a cat", "--steps", "1", "--out", Out("x.png"), .. words]);
        AssertUserError(r, expected);
        if (options.StartsWith("--controlnet OTHER", StringComparison.Ordinal)) Assert.Contains("cross_attention_dim 12", r.Err);
    }

    [Fact]
    public void AFolderWithoutATokenizerNamesTheComponentAndThePath()
    {
        var copy = Out("model");
        foreach (var file in Directory.EnumerateFiles(Plain, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Plain, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Directory.Delete(Path.Combine(copy, "tokenizer"), recursive: true);
        var r = Run("generate", "--model", copy, "--prompt", "a cat", "--out", Out("x.png"));
        AssertUserError(r, "'tokenizer'");
        Assert.Contains(Path.Combine(copy, "tokenizer"), r.Err);
        AssertUserError(Run("generate", "--model", Out("missing"), "--prompt", "a cat", "--out", Out("x.png")), Out("missing"));
        AssertUserError(Run("generate", "--model", Plain, "--out", Out("x.png")), "--prompt is required");
    }

    static void AssertUserError((int Code, string Out, string Err) r, string expected)
    {
        Assert.Equal(2, r.Code);
        Assert.Contains(expected, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", r.Err);
    }
}
