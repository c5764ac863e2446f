using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Experiments.Output;
using SharpVision.Tests.Diffusion;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class ControlNetCommandsTests : IDisposable
{
    readonly DiffusionCliFixture f = new(numClassEmbeds: 11);

    public void Dispose() => f.Dispose();

    string Train(string outDir, params string[] extra) =>
        Run(["controlnet", "train", "--base", f.Model, "--scheduler", f.Scheduler, "--out", outDir, "--steps", "2", "--batch", "4",
            "--limit", "8", "--checkpoint-every", "1", "--stages", "8", .. extra]) is var r && r.Code == 0 ? r.Out : throw new Xunit.Sdk.XunitException(r.Err);

    [Fact]
    public void TrainResumeEvaluateEdgesAndSampleRunEndToEnd()
    {
        string run = f.PathOf("run");
        Train(run);
        Assert.True(File.Exists(Path.Combine(run, "controlnet", "config.json")));
        Assert.True(File.Exists(Path.Combine(run, "scheduler", "scheduler_config.json")));
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(run, "checkpoints"), "checkpoint-*").Length); // keeps 2

        // --resume without --base takes the stored path
        var resumed = Run("controlnet", "train", "--resume", "--out", run, "--steps", "3", "--limit", "8");
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "checkpoint-00000003", "checkpoint-complete")));

        string eval = f.PathOf("eval");
        var r = Run("controlnet", "evaluate", "--base", f.Model, "--scheduler", f.Scheduler, "--controlnet", Path.Combine(run, "controlnet"),
            "--samples", "3", "--batch", "3", "--steps", "2", "--scales", "0.5,1", "--classifier-images", "128",
            "--classifier", f.PathOf("clf"), "--out", eval);
        Assert.True(r.Code == 0, r.Err);
        var csv = File.ReadAllLines(Path.Combine(eval, "adherence.csv"));
        Assert.Equal("setting,scale,edge_iou,edge_f1,fd_fmnist,ms_per_sample,samples", csv[0]);
        Assert.Equal(1 + 3, csv.Length);
        Assert.StartsWith("base,0,", csv[1]);
        Assert.StartsWith("controlnet,0.5,", csv[2]);
        Assert.Contains("not** Inception FID", File.ReadAllText(Path.Combine(eval, "adherence.md")));
        Assert.True(File.Exists(Path.Combine(eval, "grid.png")));

        string edges = f.PathOf("edges.png");
        var e = Run("controlnet", "edges", "--test-index", "0", "--out", edges);
        Assert.True(e.Code == 0, e.Err);
        var (_, h, w) = SharpVision.Experiments.Output.Images.LoadRgb(edges);
        Assert.Equal((32, 32), (h, w));

        string samples = f.PathOf("samples.png");
        var s = Run("controlnet", "sample", "--base", f.Model, "--scheduler", f.Scheduler, "--controlnet", Path.Combine(run, "controlnet"),
            "--cond", edges, "--count", "2", "--steps", "2", "--class", "3", "--out", samples);
        Assert.True(s.Code == 0, s.Err);
        Assert.True(File.Exists(samples));
    }

    [Fact]
    public void BadConditionsAndMismatchedControlNetsExitTwoNamingBothSides()
    {
        string run = f.PathOf("run");
        Train(run);
        var controlnet = Path.Combine(run, "controlnet");
        string small = f.PathOf("small.png");
        Assert.Equal(0, Run("controlnet", "edges", "--test-index", "1", "--size", "28", "--out", small).Code);
        var wrongSize = Run("controlnet", "sample", "--base", f.Model, "--scheduler", f.Scheduler, "--controlnet", controlnet, "--cond", small, "--steps", "2");
        Assert.Equal(2, wrongSize.Code);
        Assert.Contains("28x28", wrongSize.Err);
        Assert.Contains("32x32", wrongSize.Err);

        string colour = f.PathOf("colour.png");
        var rgb = new byte[32 * 32 * 3];
        for (int i = 0; i < rgb.Length; i += 3) rgb[i] = 255; // red
        SharpVision.Experiments.Output.Images.SaveRgb(rgb, 32, 32, colour);
        var wrongChannels = Run("controlnet", "sample", "--base", f.Model, "--scheduler", f.Scheduler, "--controlnet", controlnet, "--cond", colour, "--steps", "2");
        Assert.Equal(2, wrongChannels.Code);
        Assert.Contains("3 channels", wrongChannels.Err);
        Assert.Contains("1-channel", wrongChannels.Err);

        // a ControlNet built from another UNet configuration
        string otherDir = f.PathOf("other-controlnet");
        torch.manual_seed(5);
        using (var other = new UNet2DControlNet(TinyDiffusion.Config(11, sampleSize: 32) with { BlockOutChannels = [16, 16] }, [8], conditioningChannels: 1))
            other.SavePretrained(otherDir);
        var mismatch = Run("controlnet", "sample", "--base", f.Model, "--scheduler", f.Scheduler, "--controlnet", otherDir, "--cond", small, "--steps", "2");
        Assert.Equal(2, mismatch.Code);
        Assert.Contains("block_out_channels [16, 16]", mismatch.Err);
        Assert.Contains("UNet's [8, 16]", mismatch.Err);
        var evalMismatch = Run("controlnet", "evaluate", "--base", f.Model, "--scheduler", f.Scheduler, "--controlnet", otherDir, "--samples", "2");
        Assert.Equal(2, evalMismatch.Code);
        Assert.Contains("block_out_channels", evalMismatch.Err);
    }
}
