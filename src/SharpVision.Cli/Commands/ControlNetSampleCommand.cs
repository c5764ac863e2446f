using System.CommandLine;
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

    static readonly Option<string> Cond = Opt.Required("--cond", "FILE",
        "greyscale edge map (white edges on black), binarised at half intensity; exactly the size the " +
        "ControlNet takes (the sample size times its conditioning factor). Make one with sharpvision " +
        "controlnet edges --image in.png --out edges.png");
    static readonly Option<double> Scale = Opt.Double("--scale", "conditioning scale (default 1)", 1.0, min: -100, max: 100, metavar: "S");
    static readonly Option<string> Out = Opt.Text("--out", "FILE",
        "one row per sample: the condition, the base model's sample and the controlled sample, both from the " +
        "same noise (DDIM, eta 0)", "samples.png");
    static readonly Option<string> Base = Opt.Required("--base", "DIR", "the locked base UNet2DModel folder (e.g. a diffusion run's ema/)");
    static readonly Option<int> Count = Opt.Int("--count", "samples", 4, min: 1, max: 1024);
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 1, min: 0);
    static readonly Option<int?> Steps = Opt.OptionalInt("--steps", "DDIM steps", min: 1);
    public IEnumerable<Symbol> Symbols => [Base, ControlNetCommon.ControlNet, Cond, ControlNetCommon.Scheduler, Scale, Steps, DiffusionCommon.Class, Count, Seed, Out];

    public int Run(ParseResult args)
    {
        var basePath = args.GetValue(Base)!;
        using var unet = ControlNetCommon.LoadBase(basePath);
        using var net = ControlNetCommon.LoadControlNet(args, unet);
        var schedulerPath = ControlNetCommon.SchedulerPath(args, basePath);
        var condPath = args.GetValue(Cond)!;
        double scale = args.GetValue(Scale);
        int count = args.GetValue(Count);
        long seed = args.GetValue(Seed);
        var classes = DiffusionCommon.ClassLabels(args, unet, count);
        var outPath = args.GetValue(Out)!;
        var scheduler = DDIMScheduler.FromConfigFile(schedulerPath);
        int steps = args.GetValue(Steps, 50, min: 1, max: scheduler.Config.NumTrainTimesteps);

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
