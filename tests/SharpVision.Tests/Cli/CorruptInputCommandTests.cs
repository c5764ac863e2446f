using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Output;
using SharpVision.Tests.Fuzzing;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

/// <summary>A corrupted checkpoint, config or image given to a command is a user error: exit code 2, one line naming the file, no stack trace.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CorruptInputCommandTests : IDisposable
{
    readonly DiffusionCliFixture f = new();

    public void Dispose() => f.Dispose();

    static byte[] Regression(string target, string file) => File.ReadAllBytes(Path.Combine(FuzzTargets.Named(target).RegressionFolder, file));

    static void AssertUserError((int Code, string Out, string Err) r, string path)
    {
        Assert.Equal(2, r.Code);
        var line = Assert.Single(r.Err.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains(path, line);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Theory]
    [InlineData("weights", "safetensors", "huge-shape-small-file.bin")]
    [InlineData("weights", "safetensors", "overlapping-offsets.bin")]
    [InlineData("config", "unet2d-config", "null-block-out-channels.bin")]
    [InlineData("config", "unet2d-config", "wrong-type-layers.bin")]
    [InlineData("scheduler", "scheduler-config", "wrong-type-names-the-file.bin")]
    public void DiffusionSampleRejectsACorruptModelOrSchedulerFile(string which, string target, string file)
    {
        var path = which switch
        {
            "weights" => Path.Combine(f.Model, UNet2DModel.WeightsFileName),
            "config" => Path.Combine(f.Model, UNet2DModel.ConfigFileName),
            _ => Path.Combine(f.Scheduler, SchedulerConfigJson.FileName),
        };
        File.WriteAllBytes(path, Regression(target, file));
        AssertUserError(Run("diffusion", "sample", "--model", f.Model, "--scheduler", f.Scheduler, "--steps", "2", "--count", "1",
            "--out", f.PathOf("x.png")), path);
    }

    [Fact]
    public void ANewlineInATensorNameDoesNotBreakTheOneLineError()
    {
        var weights = Path.Combine(f.Model, UNet2DModel.WeightsFileName);
        File.WriteAllBytes(weights, FuzzTargets.Safetensors("""{"a\nerror: forged":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4));
        var r = Run("diffusion", "sample", "--model", f.Model, "--scheduler", f.Scheduler, "--out", f.PathOf("x.png"));
        AssertUserError(r, weights);
        Assert.Contains("a\\nerror: forged", r.Err);
    }

    [Theory]
    [InlineData("checkpoint", "torch-save", "global-os-system.bin")]
    [InlineData("checkpoint", "torch-save", "truncated-zip.bin")]
    [InlineData("config", "sam-config", "null-global-attn-indexes.bin")]
    [InlineData("image", "image", "declares-100000-square.bin")]
    [InlineData("image", "image", "not-an-image.bin")]
    public void SegmentRejectsACorruptCheckpointConfigOrImage(string which, string target, string file)
    {
        var checkpoint = FixtureRoot.Combine("sam", "sam_tiny_point", "sam.pth");
        var config = FixtureRoot.Combine("sam", "sam_tiny_point", "sam_config.json");
        var image = f.PathOf("in.png");
        Images.SaveRgb(new byte[16 * 16 * 3], 16, 16, image);
        var corrupt = f.PathOf(which + Path.GetExtension(which switch { "checkpoint" => checkpoint, "config" => config, _ => image }));
        File.WriteAllBytes(corrupt, Regression(target, file));
        AssertUserError(Run("segment", "--checkpoint", which == "checkpoint" ? corrupt : checkpoint, "--config", which == "config" ? corrupt : config,
            "--image", which == "image" ? corrupt : image, "--point", "4,4", "--out", f.PathOf("m.png")), corrupt);
    }
}
