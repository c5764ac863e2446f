using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Quantization;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.VQVAE;
using SharpVision.Nn.Data;
using SharpVision.Tests.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

public sealed class VQVAETrainerTests() : TempFolderTest("sv-vqvae-")
{
    internal static VQModelConfig Tiny => new()
    {
        InChannels = 1, OutChannels = 1, BlockOutChannels = [8, 16], LayersPerBlock = 1, NormNumGroups = 4, LatentChannels = 3,
        NumVqEmbeddings = 16, MidBlockAddAttention = false,
        DownBlockTypes = [EncoderBlockType.DownEncoderBlock2D, EncoderBlockType.DownEncoderBlock2D],
        UpBlockTypes = [DecoderBlockType.UpDecoderBlock2D, DecoderBlockType.UpDecoderBlock2D],
    };

    static Tensor Images(int start, int count) => VQVAETrainer.PrepareImages(FashionMnist.EmbeddedTest().Slice(start, count));

    /// <summary>Fashion-MNIST at half resolution (14×14 average-pooled, padded to 16×16): a quarter of the pixels keeps the tests fast.</summary>
    internal static Tensor SmallImages(int start, int count)
    {
        using var scope = torch.NewDisposeScope();
        var x = nn.functional.avg_pool2d(FashionMnist.EmbeddedTest().Slice(start, count).ImagesTensor() * 2 - 1, 2); // (N, 1, 14, 14)
        return nn.functional.pad(x, [1, 1, 1, 1], value: -1.0).MoveToOuterDisposeScope(); // (N, 1, 16, 16)
    }

    [Fact]
    public void PrepareImagesPadsWithBackgroundToMinusOne()
    {
        var x = Images(0, 4);
        Assert.Equal([4L, 1, 32, 32], x.shape);
        Assert.True(x.narrow(2, 0, 2).eq(-1).all().item<bool>(), "top margin is not background");
        Assert.True(x.min().item<float>() >= -1 && x.max().item<float>() <= 1);
        var e = Assert.Throws<ArgumentException>(() => VQVAETrainer.PrepareImages(FashionMnist.EmbeddedTest().Slice(0, 1), 31));
        Assert.Contains("even margin", e.Message);
    }

    [Fact]
    public void AFewStepsLowerTheLoss()
    {
        using var trainer = new VQVAETrainer(Tiny, SmallImages(0, 64), new VQVAETrainingOptions { BatchSize = 8, LearningRate = 3e-3, Seed = 1 });
        var losses = new List<double>();
        trainer.Train(20, s => losses.Add(s.Loss));
        Assert.Equal(20, trainer.Step);
        Assert.True(losses.TakeLast(4).Average() < 0.7 * losses.Take(4).Average(),
            $"loss did not fall: first {losses.Take(4).Average():F4}, last {losses.TakeLast(4).Average():F4}");
    }

    [Theory]
    [InlineData(VQVAEVariant.Ste)]
    [InlineData(VQVAEVariant.EmaRestart)]
    public void SaveAndResumeGiveTheParametersOfAnUninterruptedRun(VQVAEVariant variant)
    {
        var images = SmallImages(0, 24);
        var options = new VQVAETrainingOptions { BatchSize = 8, Seed = 2, Quantizer = VQVAEComparison.QuantizerFor(variant, deadCodeThreshold: 2) };
        using var straight = new VQVAETrainer(Tiny, images, options);
        straight.Train(5); // crosses an epoch boundary (3 batches per epoch)

        using (var first = new VQVAETrainer(Tiny, images, options))
        {
            first.Train(2);
            first.Save(Temp);
            first.Train(1);
            first.Save(Temp); // replaces the previous checkpoint
        }
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetDirectoryName(Temp)!), d => Path.GetFileName(d).StartsWith(Path.GetFileName(Temp) + ".", StringComparison.Ordinal));
        using var resumed = VQVAETrainer.Resume(Temp, images);
        Assert.Equal(3, resumed.Step);
        Assert.Equal(options, resumed.Options with { Quantizer = options.Quantizer });
        Assert.Equal(options.Quantizer, resumed.Options.Quantizer);
        resumed.Train(2);

        var expected = straight.Model.state_dict();
        var actual = resumed.Model.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, t) in expected)
            Assert.True(t.eq(actual[key]).all().item<bool>(), $"{key} differs after resume");
    }

    [Fact]
    public void EvaluateReportsMseOverTheImageAndWholeSetCodeStatistics()
    {
        using var trainer = new VQVAETrainer(Tiny, Images(0, 32), new VQVAETrainingOptions { BatchSize = 16 });
        trainer.Train(2);
        var test = Images(100, 20);
        var eval = VQVAETrainer.Evaluate(trainer.Model, test, padding: 2, batchSize: 7);
        Assert.Equal(20, eval.Images);
        Assert.InRange(eval.Mse, 1e-6, 1.0);
        Assert.InRange(eval.Perplexity, 1.0, 16.0 + 1e-6);
        Assert.InRange(eval.Usage, 1.0 / 16, 1.0);
        Assert.True(trainer.Model.training, "Evaluate left the model in eval mode");

        // The MSE equals a direct computation on the 28×28 crop in [0, 1] units.
        trainer.Model.eval();
        using var noGrad = torch.no_grad();
        var decoded = trainer.Model.forward(test).Sample.clamp(-1, 1);
        double direct = ((decoded - test) / 2).narrow(2, 2, 28).narrow(3, 2, 28).pow(2).mean().item<float>();
        Assert.Equal(direct, eval.Mse, 5);
    }

    [Fact]
    public void TooFewImagesOrWrongChannelsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new VQVAETrainer(Tiny, Images(0, 4), new VQVAETrainingOptions { BatchSize = 8 }));
        Assert.Contains("fewer than one batch", e.Message);
        e = Assert.Throws<ArgumentException>(() => new VQVAETrainer(Tiny, zeros(8, 3, 32, 32), new VQVAETrainingOptions { BatchSize = 8 }));
        Assert.Contains("(N, 1, H, W)", e.Message);
        Assert.Throws<FileNotFoundException>(() => VQVAETrainer.Resume(Temp, Images(0, 8)));
    }

    [Fact]
    public void ConclusionNamesTheBestVariantFromTheNumbers()
    {
        VQVAEComparisonRow Row(VQVAEVariant v, double mse, double ppl, double usage) =>
            new(v, new VQVAEEvaluation(mse, ppl, usage, 10), 0.1, 5, TimeSpan.FromSeconds(1));
        var rows = new[] { Row(VQVAEVariant.Ste, 0.02, 5, 0.2), Row(VQVAEVariant.Ema, 0.015, 20, 0.5), Row(VQVAEVariant.EmaRestart, 0.01, 60, 0.95) };
        var text = VQVAEComparison.Conclusion(rows);
        Assert.StartsWith("EMA + dead-code restart reconstructs best", text);
        Assert.Contains("2.00×", text);
        Assert.Contains("also uses its codebook most", text);
        var swapped = VQVAEComparison.Conclusion([Row(VQVAEVariant.Ste, 0.01, 5, 0.2), Row(VQVAEVariant.Ema, 0.02, 20, 0.5)]);
        Assert.Contains("while EMA uses the codebook most", swapped);
        Assert.Contains("| EMA | 0.01500 | 20.0 |", VQVAEComparison.Markdown(rows, 64));
        Assert.Contains("EmaRestart,0.010000,60.000,95.00", VQVAEComparison.Csv(rows));
    }
}
