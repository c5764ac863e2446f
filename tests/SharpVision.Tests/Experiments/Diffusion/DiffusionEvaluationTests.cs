using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Diffusion;
using SharpVision.Nn.Data;

namespace SharpVision.Tests.Experiments.Diffusion;

public sealed class DiffusionEvaluationTests() : TempFolderTest("sv-eval-", create: true)
{
    [Fact]
    public void ReportsEverySettingDeterminismAndInversion()
    {
        using var cli = new SharpVision.Tests.Cli.DiffusionCliFixture();
        using var unet = SharpVision.Diffusion.Models.UNet2DModel.FromPretrained(cli.Model);
        var data = FashionMnist.EmbeddedTest();
        using var classifier = FeatureClassifier.Train(data.Slice(0, 256), data.Slice(256, 64), images: 64);
        var real = data.Slice(256, 64).ImagesTensor();
        var inv = SharpVision.Experiments.Diffusion.FashionMnistDiffusionData.ToModelRange(data.Slice(0, 2));
        var report = DiffusionEvaluation.Run(unet, cli.Scheduler, classifier, real, inv, null,
            new EvaluationOptions(Samples: 3, DdimSteps: [2, 200], DdpmSteps: 1000, BatchSize: 2, InversionSteps: 2));
        // 200 DDIM steps and 1000 DDPM steps are capped at T = 50.
        Assert.Equal(["DDIM 0 2", "DDIM 0 50", "DDIM 1 2", "DDIM 1 50", "DDPM 1 50"], report.Rows.Select(r => $"{r.Sampler} {r.Eta} {r.Steps}"));
        Assert.All(report.Rows, r => Assert.True(double.IsFinite(r.FdFmnist) && r.FdFmnist > 0));
        Assert.All(report.Rows, r => Assert.Equal(2L, r.Grid.shape[0]));
        Assert.True(report.Deterministic);
        Assert.True(report.RealVsReal >= 0);
        Assert.NotNull(report.Inversion);
        Assert.Equal(2, report.Inversion!.RmsError.Length);
    }

    [Fact]
    public void ClassifierSavesAndLoadsWithIdenticalFeatures()
    {
        var data = FashionMnist.EmbeddedTest();
        using var trained = FeatureClassifier.Train(data.Slice(0, 128), data.Slice(128, 64), images: 64);
        trained.Save(Temp);
        using var loaded = FeatureClassifier.Load(Temp);
        var x = data.Slice(0, 8).ImagesTensor();
        Assert.True(trained.Features(x).eq(loaded.Features(x)).all().item<bool>());
        Assert.Equal(trained.TestAccuracy, loaded.TestAccuracy);
        Assert.Equal([8L, 128], trained.Features(x).shape);
    }
}
