using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;
using SharpVision.Experiments.Sam;

namespace SharpVision.Tests.Segmentation.Training;

/// <summary><c>sharpvision sam train</c> and <c>sam evaluate</c> end to end on a tiny model.</summary>
public sealed class SamCommandsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-samtrain-").FullName;

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new CommandLineApp(Commands.All).Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void TrainsResumesAndEvaluates()
    {
        var config = Path.Combine(dir, "tiny.json");
        File.WriteAllText(config, TinySam.Config.ToJson());
        var ckpt = Path.Combine(dir, "ckpt");
        var (code, output, err) = Run("sam", "train", "--out", ckpt, "--config", config, "--steps", "2", "--batch", "1");
        Assert.True(code == 0, err);
        Assert.Contains("step 2:", output);
        Assert.True(File.Exists(Path.Combine(ckpt, "checkpoints", "checkpoint-00000002", SamTrainer.ModelFile)));

        (code, output, err) = Run("sam", "train", "--out", ckpt, "--steps", "3", "--resume", "--decoder-only");
        Assert.True(code == 0, err);
        Assert.Contains("resumed", output);
        Assert.Contains("at step 2", output);
        Assert.True(File.Exists(Path.Combine(ckpt, "checkpoints", "checkpoint-00000003", SamTrainer.ModelFile)));

        var report = Path.Combine(dir, "table.md");
        var png = Path.Combine(dir, "examples.png");
        (code, output, err) = Run("sam", "evaluate", "--checkpoint", ckpt, "--scenes", "3", "--report", report, "--examples", png);
        Assert.True(code == 0, err);
        Assert.Contains("| 1 box |", output);
        Assert.Contains("r(predicted IoU, IoU)", File.ReadAllText(report));
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [Fact]
    public void ResumeWithoutACheckpointIsAUsageError()
    {
        var (code, _, err) = Run("sam", "train", "--out", Path.Combine(dir, "none"), "--resume");
        Assert.Equal(2, code);
        Assert.Contains("trainer_state.json", err);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
