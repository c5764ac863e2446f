using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Pipelines;

public sealed class DiffusersPipelineFolderTests() : TempFolderTest("sv-sdfolder-")
{
    static string Fixture => FixtureRoot.Combine("sdpipe", "sd_controlnet_ddim");

    /// <summary>A writable copy of the fixture folder without <paramref name="leaveOut"/>.</summary>
    string CopyWithout(string? leaveOut)
    {
        foreach (var file in Directory.EnumerateFiles(Fixture, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Fixture, file);
            if (leaveOut is not null && (relative == leaveOut || relative.StartsWith(leaveOut + Path.DirectorySeparatorChar))) continue;
            var target = Path.Combine(Temp, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return Temp;
    }

    [Fact]
    public void ReadsModelIndexAndLoadsEachComponent()
    {
        var folder = DiffusersPipelineFolder.Open(Fixture);
        Assert.Equal("StableDiffusionControlNetPipeline", folder.ClassName);
        Assert.Equal(new PipelineComponent("diffusers", "UNet2DConditionModel"), folder.Components["unet"]);
        Assert.True(folder.Has("vae"));
        Assert.False(folder.Has("text_encoder")); // [null, null]
        Assert.Equal("DDIMScheduler", folder.SchedulerClassName());
        using var unet = folder.LoadUNet();
        using var vae = folder.LoadVae();
        using var controlnet = folder.LoadControlNet();
        Assert.Equal(ScalarType.Float32, unet.Dtype);
        Assert.IsType<DDIMScheduler>(folder.LoadScheduler());
    }

    [Fact]
    public void SchedulerClassCanBeOverriddenAndModelsLoadInBFloat16()
    {
        var folder = DiffusersPipelineFolder.Open(Fixture);
        var ddpm = Assert.IsType<DDPMScheduler>(folder.LoadScheduler("DDPMScheduler"));
        Assert.Equal(0.012, ddpm.Config.BetaEnd); // the noise schedule carries over
        using var unet = folder.LoadUNet(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, unet.Dtype);
        var e = Assert.Throws<ArgumentException>(() => folder.LoadScheduler("NoSuchScheduler"));
        Assert.Contains("NoSuchScheduler", e.Message);
    }

    [Fact]
    public void MissingIndexAndComponentsAreNamed()
    {
        Directory.CreateDirectory(Temp);
        var noIndex = Assert.Throws<FileNotFoundException>(() => DiffusersPipelineFolder.Open(Temp));
        Assert.Contains(DiffusersPipelineFolder.ModelIndexFileName, noIndex.Message);

        var folder = DiffusersPipelineFolder.Open(CopyWithout("vae"));
        var noVae = Assert.Throws<DirectoryNotFoundException>(() => folder.LoadVae());
        Assert.Contains("'vae'", noVae.Message);
        Assert.Contains(Path.Combine(Temp, "vae"), noVae.Message);
        var absent = Assert.Throws<InvalidDataException>(() => folder.ComponentPath("text_encoder"));
        Assert.Contains("text_encoder", absent.Message);
        var wrongClass = Assert.Throws<InvalidDataException>(() => folder.LoadControlNet("unet"));
        Assert.Contains("UNet2DConditionModel", wrongClass.Message);
    }

    [Fact]
    public void MissingWeightsAreNamed()
    {
        var folder = DiffusersPipelineFolder.Open(CopyWithout(Path.Combine("unet", "diffusion_pytorch_model.safetensors")));
        var e = Assert.Throws<FileNotFoundException>(() => folder.LoadUNet());
        Assert.Contains("diffusion_pytorch_model.safetensors", e.Message);
    }
}
