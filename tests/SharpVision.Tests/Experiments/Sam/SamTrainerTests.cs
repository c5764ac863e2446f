using SharpVision.Experiments.Sam;
using SharpVision.Segmentation.Training;
using SharpVision.Tests.Segmentation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Experiments.Sam;

public sealed class SamTrainerTests
{
    static double Loss(SamTrainer trainer, IReadOnlyList<SegmentationScene> batch, int seed)
    {
        using var noGrad = no_grad();
        using var r = SamTrainer.ComputeLoss(trainer.Model, batch, new Random(seed), trainer.Options);
        return r.Loss.item<float>();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFewStepsOnAFixedBatchLowerTheLoss(bool decoderOnly)
    {
        using var model = TinySam.Build(11);
        var scenes = TinySam.Scenes(3);
        var batch = scenes.Range(0, 3).ToList();
        var options = new SamTrainingOptions { BatchScenes = 3, LearningRate = 3e-3, WarmupSteps = 0, CorrectionRounds = 0, DecoderOnly = decoderOnly };
        using var trainer = new SamTrainer(model, scenes, options);
        double before = Loss(trainer, batch, 5);
        for (int i = 0; i < 15; i++) trainer.TrainOn(batch, new Random(5));
        double after = Loss(trainer, batch, 5);
        Assert.True(after < 0.8 * before, $"loss {before:F4} -> {after:F4}");
        Assert.Equal(15, trainer.Step);
    }

    [Fact]
    public void DecoderOnlyLeavesTheEncodersUnchanged()
    {
        using var model = TinySam.Build(12);
        var before = model.named_parameters().ToDictionary(np => np.name, np => np.parameter.detach().clone());
        using var trainer = new SamTrainer(model, TinySam.Scenes(4), new SamTrainingOptions { BatchScenes = 2, WarmupSteps = 0, DecoderOnly = true });
        for (int i = 0; i < 3; i++) trainer.TrainStep();
        int changedDecoder = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            bool same = p.detach().eq(before[name]).all().item<bool>();
            if (name.StartsWith("mask_decoder.", StringComparison.Ordinal)) { if (!same) changedDecoder++; }
            else Assert.True(same, $"{name} changed although frozen");
        }
        Assert.True(changedDecoder > 10, $"only {changedDecoder} decoder tensors changed");
        Assert.Contains(model.named_parameters(), np => np.name.StartsWith("image_encoder.", StringComparison.Ordinal) && !np.parameter.requires_grad);
    }

    [Fact]
    public void ResumingFromACheckpointContinuesExactly()
    {
        var dir = Directory.CreateTempSubdirectory("samtrain").FullName;
        try
        {
            var options = new SamTrainingOptions { BatchScenes = 2, WarmupSteps = 3, Seed = 9 };
            using var model = TinySam.Build(13);
            using var trainer = new SamTrainer(model, TinySam.Scenes(5), options);
            trainer.TrainStep();
            trainer.SaveCheckpoint(dir);
            trainer.TrainStep();
            var checkpoint = trainer.SaveCheckpoint(dir);
            var expected = trainer.TrainStep();

            using var resumed = SamTrainer.Resume(dir, TinySam.Source);
            Assert.Equal(2, resumed.Step);
            var actual = resumed.TrainStep();
            Assert.Equal(expected.Loss, actual.Loss, 5);
            foreach (var ((name, p), (_, q)) in model.named_parameters().Zip(resumed.Model.named_parameters()))
                Assert.True(p.detach().allclose(q.detach(), rtol: 1e-5, atol: 1e-6), $"{name} differs after resume");
            // The latest step's checkpoint holds these files; the model file has the official key names.
            Assert.Equal(["checkpoint-complete", "optimizer.bin", "sam.pth", "sam_config.json", "trainer_state.json"],
                Directory.GetFiles(checkpoint).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());
            var dict = SharpVision.Nn.Checkpoints.StateDict.LoadPyTorch(Path.Combine(checkpoint, SamTrainer.ModelFile));
            Assert.Contains("mask_decoder.iou_prediction_head.layers.0.weight", dict.Keys);
            Assert.Contains("image_encoder.patch_embed.proj.weight", dict.Keys);
            resumed.Model.Dispose();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void LossesMatchTheirDefinitions()
    {
        var logits = tensor(new float[] { 2f, -1f, 0.5f, -3f }, [1, 2, 2]);
        var target = tensor(new float[] { 1f, 0f, 0f, 1f }, [1, 2, 2]);
        // IoU of {0, 2} with {0, 3}: 1/3.
        Assert.Equal(1.0 / 3, SamLoss.ActualIou(logits, target).item<float>(), 5);
        var p = logits.sigmoid();
        double dice = 1 - (2 * (p * target).sum().item<float>() + 1) / (p.sum().item<float>() + target.sum().item<float>() + 1);
        Assert.Equal(dice, SamLoss.Dice(logits, target).item<float>(), 5);
        double focal = 0;
        float[] l = [2f, -1f, 0.5f, -3f], t = [1, 0, 0, 1];
        for (int i = 0; i < 4; i++)
        {
            double q = 1 / (1 + Math.Exp(-l[i])), pt = t[i] == 1 ? q : 1 - q, a = t[i] == 1 ? 0.25 : 0.75;
            focal += a * Math.Pow(1 - pt, 2) * -Math.Log(pt);
        }
        Assert.Equal(focal / 4, SamLoss.Focal(logits, target).item<float>(), 5);
    }

    [Fact]
    public void MismatchedCanvasIsRejected()
    {
        using var model = TinySam.Build(14);
        var scenes = new FashionMnistScenes(TinySam.Source, new SceneOptions { CanvasSize = 64 });
        var e = Assert.Throws<ArgumentException>(() => new SamTrainer(model, scenes, new SamTrainingOptions()));
        Assert.Contains("image_size", e.Message);
    }
}
