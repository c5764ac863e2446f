using SharpVision.Diffusion.ControlNet;
using SharpVision.Experiments.ControlNet;
using SharpVision.Tests.ControlNet;
using SharpVision.Tests.Diffusion;

namespace SharpVision.Tests.Experiments.ControlNet;

public sealed class ControlNetEvaluationTests() : TempFolderTest("sv-cneval-", create: true)
{
    [Fact]
    public void AnUntrainedControlNetAdheresExactlyAsTheBaseAlone()
    {
        using var unet = TinyDiffusion.Model(numClassEmbeds: 11);
        manual_seed(4);
        using var net = UNet2DControlNet.FromUNet(unet, [8], conditioningChannels: 1); // zero convolutions: no effect yet
        var scheduler = Path.Combine(Temp, "scheduler_config.json");
        TinyDiffusion.Ddim().Save(scheduler);
        var images = rand(6, 1, 8, 8) * 2 - 1;
        var report = ControlNetEvaluation.Run(unet, net, scheduler, images, [0, 1, 2, 3, 4, 5], null, null,
            new ControlNetEvaluationOptions(Samples: 5, Steps: 3, Scales: [1.0, 1.5], BatchSize: 2, GridSamples: 3));
        Assert.Equal(["base alone", "ControlNet scale 1", "ControlNet scale 1.5"], report.Rows.Select(r => r.Setting));
        foreach (var r in report.Rows)
        {
            Assert.InRange(r.EdgeIou, 0, 1);
            Assert.InRange(r.EdgeF1, 0, 1);
            Assert.Null(r.FdFmnist);
            Assert.Equal(new long[] { 3, 1, 8, 8 }, r.Grid.shape);
            Assert.Equal(report.Rows[0].EdgeIou, r.EdgeIou);
            Assert.True(ControlNetTestModels.BitEqual(report.Rows[0].Grid, r.Grid));
        }
        Assert.Equal(new long[] { 3, 1, 8, 8 }, report.Conditions.shape);
    }

    [Fact]
    public void AControlNetForAnotherUNetIsRefusedNamingBothSides()
    {
        using var unet = TinyDiffusion.Model(numClassEmbeds: 11);
        using var net = new UNet2DControlNet(TinyDiffusion.Config(11) with { LayersPerBlock = 2 }, [8], conditioningChannels: 1);
        var e = Assert.Throws<ArgumentException>(() => ControlNetEvaluation.Run(unet, net, "unused", zeros(2, 1, 8, 8), [0, 1], null, null,
            new ControlNetEvaluationOptions(Samples: 2)));
        Assert.Contains("layers_per_block 2", e.Message);
        Assert.Contains("UNet's 1", e.Message);
    }
}
