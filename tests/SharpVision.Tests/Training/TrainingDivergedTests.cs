using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Sam;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;
using SharpVision.Tests.Cli;
using SharpVision.Tests.Diffusion;
using SharpVision.Tests.Segmentation.Training;
using static SharpVision.Tests.Cli.DiffusionCliFixture;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

/// <summary>Every trainer stops on a NaN or infinite loss with <see cref="TrainingDivergedException"/> (the ControlNet's own
/// test is ControlNetTrainerTests.ANaNLossStopsWithAClearMessageAndLeavesTheWeights), and the CLI reports it the same way.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TrainingDivergedTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-diverged-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static Tensor Poisoned(Tensor images)
    {
        images[0, 0, 0, 0] = float.NaN;
        return images;
    }

    static TrainingDivergedException Diverge(string trainer, string checkpoints) => Assert.Throws<TrainingDivergedException>(() =>
    {
        switch (trainer)
        {
            case "diffusion":
                using (var t = new DiffusionTrainer(TinyDiffusion.Config(), TinyDiffusion.Ddpm(), new DiffusionTrainingOptions(BatchSize: 16, CheckpointEvery: 0),
                           Poisoned(DiffusionTrainerTests.Data().Images), null))
                    t.Train(2, checkpoints);
                break;
            case "vqvae":
                using (var t = new VQVAETrainer(VQVAETrainerTests.Tiny, Poisoned(VQVAETrainerTests.SmallImages(0, 8)), new VQVAETrainingOptions { BatchSize = 8 }))
                    t.Train(2);
                break;
            case "latent":
                using (var vq = new SharpVision.Diffusion.Models.Autoencoders.VQModel(VQVAETrainerTests.Tiny))
                using (var t = new LatentDiffusion(vq, LatentDiffusion.UNetConfig(3, 4, width: 8), Poisoned(VQVAETrainerTests.SmallImages(0, 8)), new LatentDiffusionOptions(BatchSize: 8)))
                    t.Train(2);
                break;
            case "sam":
                using (var model = TinySam.Build(3))
                using (var t = new SamTrainer(model, TinySam.Scenes(), new SamTrainingOptions { BatchScenes = 1, WarmupSteps = 0 }))
                {
                    using (no_grad()) model.image_encoder.parameters().First().fill_(float.NaN);
                    t.TrainStep();
                }
                break;
            case "classifier":
                manual_seed(0);
                using (var model = FashionClassifier.WithBatchNorm())
                    ClassifierTrainer.Train(model, FashionMnist.EmbeddedTest().Slice(0, 64), new ClassifierTrainingOptions(32, 64 * 32, LearningRate: 1e30),
                        checkpoints: new ClassifierCheckpoints(checkpoints, Every: 1));
                break;
        }
    });

    [Theory]
    [InlineData("diffusion")]
    [InlineData("vqvae")]
    [InlineData("latent")]
    [InlineData("sam")]
    [InlineData("classifier")]
    public void ANonFiniteLossStopsEveryTrainerWithTheStepAndWhatToDo(string trainer)
    {
        var checkpoints = Path.Combine(dir, trainer);
        var e = Diverge(trainer, checkpoints);
        Assert.False(double.IsFinite(e.Loss));
        Assert.True(e.Step >= 1);
        Assert.Contains($"at step {e.Step}", e.Message);
        Assert.Contains("--lr", e.Message);
        Assert.Equal(CheckpointFolders.Latest(checkpoints), e.LastCheckpoint);
        if (e.LastCheckpoint is not null) Assert.Contains("--resume", e.Message);
    }

    [Theory]
    [InlineData("classifier", "train", "--images", "2048", "--batch", "32", "--limit", "64", "--checkpoint-every", "1", "--lr", "1e30")]
    [InlineData("sam", "train", "--steps", "3", "--batch", "1", "--save-every", "1", "--lr", "1e30")]
    public void TheCliReportsADivergenceOnOneLineWithExitCode2(params string[] command)
    {
        var outDir = Path.Combine(dir, command[0]);
        string[] extra = command[0] == "sam" ? ["--config", WriteTinySamConfig()] : [];
        var r = Run([.. command, .. extra, "--out", outDir]);
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: training diverged", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains(CheckpointFolders.Latest(Path.Combine(outDir, "checkpoints"))!, r.Err);
    }

    string WriteTinySamConfig()
    {
        var path = Path.Combine(dir, "tiny-sam.json");
        File.WriteAllText(path, TinySam.Config.ToJson());
        return path;
    }
}
