using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Training;
using SharpVision.Tests.Diffusion;
using SharpVision.Tests.Testing;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class DiffusionTrainCommandTests() : TempFolderTest("sv-traincli-", create: true)
{
    string[] Train(params string[] more) =>
        ["diffusion", "train", "--out", Temp, "--limit", "32", "--batch", "8", "--channels", "8,16", "--timesteps", "50",
         "--warmup", "1", "--checkpoint-every", "2", "--sample-every", "2", "--sample-steps", "2", .. more];

    [Fact]
    public void TrainsCheckpointsSamplesAndResumes()
    {
        var first = Run(Train("--steps", "2", "--conditional", "--objective", "v_prediction"));
        Assert.True(first.Code == 0, first.Err);
        Assert.True(File.Exists(Path.Combine(Temp, "samples", "step-00000002.png")));
        Assert.True(File.Exists(Path.Combine(Temp, "checkpoints", "checkpoint-00000002", DiffusionTrainer.CompleteMarker)));
        using (var ema = UNet2DModel.FromPretrained(Path.Combine(Temp, "ema")))
            Assert.Equal(11, ema.Config.NumClassEmbeds);

        var resumed = Run(Train("--steps", "4", "--resume"));
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.True(File.Exists(Path.Combine(Temp, "checkpoints", "checkpoint-00000004", DiffusionTrainer.CompleteMarker)));
        Assert.Contains("v_prediction", File.ReadAllText(Path.Combine(Temp, "scheduler", "scheduler_config.json")));

        var sample = Run("diffusion", "sample", "--model", Path.Combine(Temp, "ema"), "--scheduler", Path.Combine(Temp, "scheduler"),
            "--steps", "2", "--count", "2", "--class", "3", "--guidance", "2", "--out", Path.Combine(Temp, "s.png"));
        Assert.True(sample.Code == 0, sample.Err);
    }

    [Fact]
    public void AbsurdLearningRateStopsWithExitTwoAndKeepsTheCheckpoint()
    {
        var r = Run(Train("--steps", "40", "--lr", "1e30", "--warmup", "0", "--checkpoint-every", "1", "--sample-every", "0"));
        Assert.Equal(2, r.Code);
        Assert.Contains("diverged", r.Err);
        Assert.Contains("checkpoint-", r.Err);
        Assert.NotNull(DiffusionTrainer.LatestCheckpoint(Path.Combine(Temp, "checkpoints")));
    }

    [Fact]
    public void ResumeWithoutCheckpointAndBadObjectiveAreUsageErrors()
    {
        var resume = Run(Train("--resume"));
        Assert.Equal(2, resume.Code);
        Assert.Contains("no complete checkpoint", resume.Err);
        var objective = Run(Train("--objective", "score"));
        Assert.Equal(2, objective.Code);
        Assert.Contains("epsilon, v_prediction or sample", objective.Err);
    }
}
