using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Nn.Training;
using SharpVision.Tests.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Diffusion;

public sealed class DiffusionTrainerTests() : TempFolderTest("sv-train-", create: true)
{
    /// <summary>16 8×8 images: four shapes (bars and squares) with noise-free pixels in {−1, 1}; label = shape.</summary>
    internal static (Tensor Images, Tensor Labels) Data()
    {
        var images = full(16, 1, 8, 8, -1f);
        var labels = new long[16];
        for (int i = 0; i < 16; i++)
        {
            int kind = i % 4;
            labels[i] = kind;
            var img = images[i, 0];
            switch (kind)
            {
                case 0: img[TensorIndex.Slice(2, 6), TensorIndex.Colon].fill_(1); break;
                case 1: img[TensorIndex.Colon, TensorIndex.Slice(2, 6)].fill_(1); break;
                case 2: img[TensorIndex.Slice(1, 4), TensorIndex.Slice(1, 4)].fill_(1); break;
                default: img[TensorIndex.Slice(4, 7), TensorIndex.Slice(4, 7)].fill_(1); break;
            }
        }
        return (images, tensor(labels));
    }

    static DiffusionTrainingOptions Options(Func<DiffusionTrainingOptions, DiffusionTrainingOptions>? edit = null)
    {
        var o = new DiffusionTrainingOptions(BatchSize: 4, LearningRate: 2e-3, WarmupSteps: 2, EmaDecay: 0.9, Seed: 3, CheckpointEvery: 0);
        return edit is null ? o : edit(o);
    }

    static double FixedLoss(DiffusionTrainer trainer, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var g = new Generator(99);
        var t = randint(0, 50, [images.shape[0]], dtype: ScalarType.Int64, generator: g);
        var noise = randn(images.shape, generator: g);
        trainer.Model.eval();
        var loss = nn.functional.mse_loss(trainer.Model.forward(trainer.Scheduler.AddNoise(images, noise, t), t, null), noise).item<float>();
        trainer.Model.train();
        return loss;
    }

    static void AssertSameWeights(UNet2DModel a, UNet2DModel b)
    {
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.True(t.eq(sb[name]).all().item<bool>(), $"{name} differs");
    }

    [Fact]
    public void AFewStepsLowerTheLoss()
    {
        var (images, _) = Data();
        using var trainer = new DiffusionTrainer(TinyDiffusion.Config(), TinyDiffusion.Ddpm(), Options(), images, null);
        double before = FixedLoss(trainer, images);
        trainer.Train(30);
        double after = FixedLoss(trainer, images);
        Assert.Equal(30, trainer.Step);
        Assert.True(after < 0.8 * before, $"loss {before} -> {after}");
    }

    [Fact]
    public void ResumingFromAHalfwayCheckpointGivesIdenticalWeights()
    {
        var (images, labels) = Data();
        var config = TinyDiffusion.Config(numClassEmbeds: 5);
        string full = Path.Combine(Temp, "full"), half = Path.Combine(Temp, "half");
        using var straight = new DiffusionTrainer(config, TinyDiffusion.Ddpm(), Options(o => o with { LabelDropout = 0.3 }), images, labels);
        straight.Train(6, full);

        using (var first = new DiffusionTrainer(config, TinyDiffusion.Ddpm(), Options(o => o with { LabelDropout = 0.3 }), images, labels))
            first.Train(3, half);
        using var resumed = DiffusionTrainer.Resume(half, images, labels);
        Assert.Equal(3, resumed.Step);
        resumed.Train(6, half);

        AssertSameWeights(straight.Model, resumed.Model);
        AssertSameWeights(straight.Ema, resumed.Ema);
    }

    [Fact]
    public void CheckpointsHaveTheDiffusersLayoutAreCompleteAndPruned()
    {
        var (images, _) = Data();
        using var trainer = new DiffusionTrainer(TinyDiffusion.Config(), TinyDiffusion.Ddpm() with { PredictionType = PredictionType.VPrediction },
            Options(o => o with { CheckpointEvery = 2, KeepCheckpoints = 2 }), images, null);
        trainer.Train(6, Temp);
        var dirs = Directory.GetDirectories(Temp).Select(d => Path.GetFileName(d)!).Order().ToArray();
        Assert.Equal(new[] { "checkpoint-00000004", "checkpoint-00000006" }, dirs);
        var last = Path.Combine(Temp, "checkpoint-00000006");
        foreach (var file in new[] { "model/config.json", "model/diffusion_pytorch_model.safetensors", "ema/config.json",
                     "ema/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json", "optimizer.bin", "trainer_state.json", DiffusionTrainer.CompleteMarker })
            Assert.True(File.Exists(Path.Combine(last, file)), file);
        Assert.Contains("v_prediction", File.ReadAllText(Path.Combine(last, "scheduler/scheduler_config.json")));
        using var ema = UNet2DModel.FromPretrained(Path.Combine(last, "ema"));
        AssertSameWeights(trainer.Ema, ema);

        // A folder without the marker (a save killed midway) is never resumed from.
        Directory.CreateDirectory(Path.Combine(Temp, "checkpoint-00000008"));
        Assert.Equal(last, DiffusionTrainer.LatestCheckpoint(Temp));
    }

    [Fact]
    public void NonFiniteLossStopsTrainingAndKeepsTheLastGoodCheckpoint()
    {
        var (images, _) = Data();
        using var trainer = new DiffusionTrainer(TinyDiffusion.Config(), TinyDiffusion.Ddpm(),
            Options(o => o with { LearningRate = 1e30, WarmupSteps = 0, GradientClip = 0, CheckpointEvery = 1 }), images, null);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(50, Temp));
        Assert.Contains("diverged", e.Message);
        Assert.True(e.Step >= 2);
        Assert.Equal(e.Step - 1, trainer.Step);
        Assert.NotNull(e.LastCheckpoint);
        Assert.Equal(DiffusionTrainer.LatestCheckpoint(Temp), e.LastCheckpoint);
        Assert.EndsWith($"{trainer.Step:D8}", e.LastCheckpoint);
        Assert.Contains(e.LastCheckpoint!, e.Message);
    }

    [Fact]
    public void RejectsLabelsThatDoNotFitTheModel()
    {
        var (images, labels) = Data();
        var missing = Assert.Throws<ArgumentException>(() => new DiffusionTrainer(TinyDiffusion.Config(numClassEmbeds: 5), TinyDiffusion.Ddpm(), Options(), images, null));
        Assert.Contains("labels are required", missing.Message);
        var range = Assert.Throws<ArgumentException>(() => new DiffusionTrainer(TinyDiffusion.Config(numClassEmbeds: 4), TinyDiffusion.Ddpm(), Options(), images, labels));
        Assert.Contains("0..2", range.Message);
        var batch = Assert.Throws<ArgumentException>(() => new DiffusionTrainer(TinyDiffusion.Config(), TinyDiffusion.Ddpm(), Options(o => o with { BatchSize = 17 }), images, null));
        Assert.Contains("17", batch.Message);
    }

    [Fact]
    public void WarmupAndEmaDecaySchedules()
    {
        var (images, _) = Data();
        using var trainer = new DiffusionTrainer(TinyDiffusion.Config(), TinyDiffusion.Ddpm(), Options(o => o with { WarmupSteps = 4, EmaDecay = 0.999 }), images, null);
        Assert.Equal(2e-3 / 4, trainer.LearningRateAt(1), 12);
        Assert.Equal(2e-3, trainer.LearningRateAt(4), 12);
        Assert.Equal(2e-3, trainer.LearningRateAt(100), 12);
        Assert.Equal(2.0 / 11, trainer.EmaDecayAt(1), 12);
        Assert.Equal(0.999, trainer.EmaDecayAt(1_000_000), 12);
    }
}
