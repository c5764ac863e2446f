using SharpVision.Diffusion.Pipelines;
using static SharpVision.Tests.Pipelines.StableDiffusionPipelineTests;

namespace SharpVision.Tests.Pipelines;

public sealed class StableDiffusionControlNetPipelineTests
{
    static Tensor Control() => torch.rand([1, 3, 16, 16], generator: new Generator(4));

    static Tensor Latents() => torch.randn([1, 4, 8, 8], generator: new Generator(3));

    [Fact]
    public void ZeroScaleOrAnEmptyWindowIsTheTextToImageResult()
    {
        var plain = StableDiffusionPipeline.FromPretrained(Folder).Call(Embeds(1, 1), Embeds(1, 2),
            new StableDiffusionOptions { NumInferenceSteps = 4, Height = 16, Width = 16, Latents = Latents() });
        var pipe = StableDiffusionControlNetPipeline.FromPretrained(Folder);
        var options = new StableDiffusionControlNetOptions { NumInferenceSteps = 4, Latents = Latents() };
        var zero = pipe.Call(Embeds(1, 1), Embeds(1, 2), [Control()], options with { ConditioningScales = [0.0] });
        // a window shorter than one step (0.1 of 4 steps) keeps no step
        var window = pipe.Call(Embeds(1, 1), Embeds(1, 2), [Control()], options with { ControlGuidanceStart = [0.0], ControlGuidanceEnd = [0.1] });
        var controlled = pipe.Call(Embeds(1, 1), Embeds(1, 2), [Control()], options);
        Assert.True(zero.Images!.allclose(plain.Images!, 1e-5, 1e-6));
        Assert.True(window.Images!.allclose(plain.Images!, 1e-5, 1e-6));
        Assert.False(controlled.Images!.allclose(plain.Images!, 1e-5, 1e-6));
    }

    [Fact]
    public void TwoControlNetsAtHalfScaleEqualOneAtFullScale()
    {
        var folder = DiffusersPipelineFolder.Open(Folder);
        var one = StableDiffusionControlNetPipeline.FromPretrained(Folder);
        var two = StableDiffusionControlNetPipeline.FromPretrained(Folder, ["controlnet", "controlnet"]);
        var options = new StableDiffusionControlNetOptions { NumInferenceSteps = 3, Latents = Latents() };
        var a = one.Call(Embeds(1, 1), Embeds(1, 2), [Control()], options);
        var b = two.Call(Embeds(1, 1), Embeds(1, 2), [Control(), Control()], options with { ConditioningScales = [0.5, 0.5] });
        Assert.True(a.Images!.allclose(b.Images!, 1e-4, 1e-5));
        Assert.True(folder.Has("unet"));
    }

    [Fact]
    public void CountsThatDoNotMatchTheControlNetsAreNamed()
    {
        var pipe = StableDiffusionControlNetPipeline.FromPretrained(Folder);
        var images = Assert.Throws<ArgumentException>(() => pipe.Call(Embeds(1, 1), Embeds(1, 2), [Control(), Control()]));
        Assert.Contains("2 control images for 1 ControlNets", images.Message);
        var two = StableDiffusionControlNetPipeline.FromPretrained(Folder, ["controlnet", "controlnet"]);
        var scales = Assert.Throws<ArgumentException>(() => two.Call(Embeds(1, 1), Embeds(1, 2), [Control(), Control()],
            new StableDiffusionControlNetOptions { NumInferenceSteps = 1, ConditioningScales = [1, 1, 1] }));
        Assert.Contains("controlnet_conditioning_scale", scales.Message);
    }
}
