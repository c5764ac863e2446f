using System.Diagnostics;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Output;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision controlnet sample</c>: DDIM samples under an edge condition, beside the base model's from the same noise.</summary>
public sealed class ControlNetSampleCommand : ICommand
{
    public string Name => "controlnet sample";
    public string Summary => "Sample a UNet under an edge ControlNet from a condition PNG; grid: condition, base, controlled";
    public string Usage => """
        sharpvision controlnet sample --base DIR --controlnet DIR --cond edges.png [--scheduler DIR] [--scale 1]
                                      [--steps 50] [--class K|K1,K2|all|null] [--count 4] [--seed 1] [--out samples.png]

          --cond FILE      greyscale edge map (white edges on black), binarised at half intensity; exactly the size
                           the ControlNet takes (the sample size times its conditioning factor). Make one with
                           sharpvision controlnet edges --image in.png --out edges.png
          --scale S        conditioning scale (default 1)
          --out FILE       one row per sample: the condition, the base model's sample and the controlled sample, both
                           from the same noise (DDIM, eta 0)
        """;

    public int Run(Arguments args)
    {
        var basePath = args.Required("base");
        using var unet = ControlNetCommon.LoadBase(basePath);
        using var net = ControlNetCommon.LoadControlNet(args, unet);
        var schedulerPath = ControlNetCommon.SchedulerPath(args, basePath);
        var condPath = args.Required("cond");
        double scale = args.Double("scale", 1.0, min: -100, max: 100);
        int count = args.Int("count", 4, min: 1, max: 1024);
        long seed = args.Int("seed", 1, min: 0);
        var classes = DiffusionCommon.ClassLabels(args, unet, count);
        var outPath = args.Option("out") ?? "samples.png";
        var scheduler = DDIMScheduler.FromConfigFile(schedulerPath);
        int steps = args.Int("steps", 50, min: 1, max: scheduler.Config.NumTrainTimesteps);
        args.RejectUnknown();

        using var scope = torch.NewDisposeScope();
        var condition = ControlNetCommon.LoadCondition(condPath, net, unet); // (1, c, H·f, W·f)
        var conditions = condition.expand(count, -1, -1, -1).contiguous(); // (count, c, H·f, W·f)
        long h = condition.shape[2] / net.controlnet_cond_embedding.DownsampleFactor, w = condition.shape[3] / net.controlnet_cond_embedding.DownsampleFactor;
        using var g = new Generator((ulong)seed);
        var noise = torch.randn([count, unet.Config.InChannels, h, w], generator: g);
        var labels = classes is null ? null : torch.tensor(classes);
        var watch = Stopwatch.StartNew();
        var (baseSamples, controlled) = DiffusionCommon.WithSteps("DDIM: base, then controlled", 2 * steps, p =>
        {
            scheduler.SetTimesteps(steps);
            var b = ControlledDdimSampling.Sample(unet, scheduler, noise, [], labels, progress: s => p(s));
            scheduler.SetTimesteps(steps);
            var c = ControlledDdimSampling.Sample(unet, scheduler, noise, [new UNet2DControl(net, conditions, scale)], labels,
                progress: s => p(s with { Step = steps + s.Step }));
            return (b, c);
        });
        watch.Stop();
        // Condition shown at the sample's size (the first channel, mapped to [-1, 1]).
        var shown = nn.functional.interpolate(conditions.narrow(1, 0, 1), size: [h, w], mode: InterpolationMode.Nearest) * 2 - 1; // (count, 1, H, W)
        var cells = torch.stack([shown, baseSamples.narrow(1, 0, 1), controlled.narrow(1, 0, 1)], 1).flatten(0, 1); // (count·3, 1, H, W)
        Images.SaveGrid(cells, outPath, columns: 3, low: -1, high: 1);
        AnsiConsole.WriteLine($"DDIM {steps} steps, scale {scale}, seed {seed}: {count} base + {count} controlled sample(s) in {watch.Elapsed.TotalSeconds:F1} s");
        AnsiConsole.WriteLine($"Wrote {outPath} (columns: condition, base sample, controlled sample)");
        return 0;
    }
}
