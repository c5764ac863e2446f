using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Training;
using SharpVision.Nn.Training;
using SharpVision.Tests.Diffusion;
using SharpVision.Tests.Testing;
using static TorchSharp.torch;

namespace SharpVision.Tests.ControlNet;

public sealed class ControlNetTrainerTests() : TempFolderTest("sv-cntrain-", create: true)
{
    /// <summary>16 8×8 images of four shapes (bars and squares) with labels; see <see cref="DiffusionTrainerTests"/>.</summary>
    static (Tensor Images, Tensor Labels) Data() => DiffusionTrainerTests.Data();

    static ControlNetTrainingOptions Options(int checkpointEvery = 0) =>
        new(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 2, Seed: 3, CheckpointEvery: checkpointEvery, ConditioningStages: [8]);

    static UNet2DModel Base() => TinyDiffusion.Model(numClassEmbeds: 11);

    /// <summary>The loss on one fixed noisy batch, the ControlNet applied.</summary>
    static double FixedLoss(ControlNetTrainer trainer, Tensor images, Tensor labels)
    {
        using var noGrad = no_grad();
        using var g = new Generator(7);
        var t = randint(0, 50, [16], dtype: ScalarType.Int64, generator: g);
        var noise = randn(images.shape, generator: g);
        var noisy = trainer.Scheduler.AddNoise(images, noise, t);
        var prediction = trainer.ControlNet.Apply(trainer.BaseModel, noisy, t, EdgeMaps.Compute(images), labels);
        return nn.functional.mse_loss(prediction, noise).item<float>();
    }

    [Fact]
    public void TrainingLowersTheLossAndNeverChangesTheBase()
    {
        var (images, labels) = Data();
        using var unet = Base();
        var before = unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var trainer = new ControlNetTrainer(unet, null, TinyDiffusion.Ddpm(), Options(), images, labels);
        Assert.False(unet.training);
        Assert.All(unet.parameters(), p => Assert.False(p.requires_grad));
        double start = FixedLoss(trainer, images, labels);
        trainer.Train(120);
        double end = FixedLoss(trainer, images, labels);
        Assert.True(end < 0.8 * start, $"loss {start} -> {end}");
        foreach (var (name, t) in unet.state_dict())
            Assert.True(ControlNetTestModels.BitEqual(before[name], t), $"base weight {name} changed");
        Assert.False(unet.training);
    }

    [Fact]
    public void AResumedRunEqualsTheUninterruptedOne()
    {
        var (images, labels) = Data();
        using var unet = Base();
        using var straight = new ControlNetTrainer(unet, "base-dir", TinyDiffusion.Ddpm(), Options(), images, labels);
        straight.Train(6);

        var checkpoints = Path.Combine(Temp, "checkpoints");
        using (var first = new ControlNetTrainer(unet, "base-dir", TinyDiffusion.Ddpm(), Options(checkpointEvery: 3), images, labels))
            first.Train(3, checkpoints);
        var latest = ControlNetTrainer.LatestCheckpoint(checkpoints)!;
        foreach (var file in new[] { "controlnet/config.json", "controlnet/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json",
                     "optimizer.bin", "trainer_state.json", DiffusionTrainer.CompleteMarker })
            Assert.True(File.Exists(Path.Combine(latest, file)), file);
        Assert.Equal(Path.GetFullPath("base-dir"), ControlNetTrainer.StoredBaseModelPath(checkpoints));

        using var resumed = ControlNetTrainer.Resume(checkpoints, unet, null, images, labels);
        Assert.Equal(3, resumed.Step);
        Assert.Equal(Path.GetFullPath("base-dir"), resumed.BaseModelPath);
        resumed.Train(6);
        var expected = straight.ControlNet.state_dict();
        foreach (var (name, t) in resumed.ControlNet.state_dict())
            Assert.True(ControlNetTestModels.BitEqual(expected[name], t), $"{name} differs after resume");
    }

    [Fact]
    public void ANaNLossStopsWithAClearMessageAndLeavesTheWeights()
    {
        var (images, labels) = Data();
        images[0, 0, 0, 0] = float.NaN;
        using var unet = Base();
        using var trainer = new ControlNetTrainer(unet, null, TinyDiffusion.Ddpm(), Options(), images, labels);
        var before = trainer.ControlNet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(4));
        Assert.Contains("NaN", e.Message);
        Assert.Contains("diverged", e.Message);
        Assert.Equal(0, trainer.Step);
        foreach (var (name, t) in trainer.ControlNet.state_dict())
            Assert.True(ControlNetTestModels.BitEqual(before[name], t), name);
    }

    [Fact]
    public void ResumingOnAnotherUNetNamesBothConfigurations()
    {
        var (images, labels) = Data();
        var checkpoints = Path.Combine(Temp, "checkpoints");
        using (var unet = Base())
        using (var trainer = new ControlNetTrainer(unet, null, TinyDiffusion.Ddpm(), Options(), images, labels))
            trainer.Train(1, checkpoints);
        using var other = new UNet2DModel(TinyDiffusion.Config(11) with { BlockOutChannels = [16, 16] });
        var e = Assert.Throws<ArgumentException>(() => ControlNetTrainer.Resume(checkpoints, other, null, images, labels));
        Assert.Contains("[8, 16]", e.Message);
        Assert.Contains("[16, 16]", e.Message);
    }

    [Fact]
    public void LabelsAreRequiredForAClassConditionalBase()
    {
        var (images, _) = Data();
        using var unet = Base();
        var e = Assert.Throws<ArgumentException>(() => new ControlNetTrainer(unet, null, TinyDiffusion.Ddpm(), Options(), images, null));
        Assert.Contains("class-conditional", e.Message);
    }
}
