using System.CommandLine;
using System.Diagnostics;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Checkpoints;
using Spectre.Console;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision diffusion sample</c>: samples a saved UNet2DModel with DDIM or DDPM and writes a PNG grid.</summary>
public sealed class DiffusionSampleCommand : ICommand
{
    public string Name => "diffusion sample";
    public string Summary => "Sample a saved UNet2DModel with DDIM or DDPM (seeded, class labels, guidance); PNG grid";

    static readonly Option<string> Sampler = Opt.Text("--sampler", "NAME",
        "ddim, ddpm, or any scheduler on the model's trained schedule: a preset (euler, euler-ancestral, heun, lms, pndm, " +
        "dpm++2m, dpm++2m-karras, dpm++2m-sde, dpm++3m, dpm-singlestep, unipc, deis, kdpm2, kdpm2-ancestral, lcm) or a diffusers " +
        "class name (EulerDiscreteScheduler, ...)", "ddim").Suggest(["ddim", "ddpm", .. SchedulerPresets.Names]);
    static readonly Option<int?> Steps = Opt.OptionalInt("--steps",
        "denoising steps (default 50; ddpm: default num_train_timesteps, the full chain)", min: 1);
    static readonly Option<double> Eta = Opt.Double("--eta",
        "DDIM noise weight: 0 deterministic (same seed, bit-identical images), 1 DDPM-like", 0, min: 0, max: 10, metavar: "E");
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 1, min: 0);
    static readonly Option<int> Count = Opt.Int("--count", "samples", 16, min: 1, max: 4096);
    static readonly Option<double> Guidance = Opt.Double("--guidance", "classifier-free guidance scale (1: no guidance)", 1.0, min: -100, max: 100, metavar: "S");
    static readonly Option<int?> Size = Opt.OptionalInt("--size", "sample height and width (default: the model's sample_size)", min: 1, max: 4096, metavar: "H");
    static readonly Option<int?> Columns = Opt.OptionalInt("--columns",
        "grid columns (default: one per class when cycling through the classes, else about the square root of " +
        "--count)", min: 1);
    static readonly Option<string> Out = Opt.Text("--out", "FILE", "the PNG grid", "samples.png");
    static readonly Option<string> Tensor = Opt.Text("--tensor", "FILE",
        "also write the raw samples (float32, model range) as safetensors key \"samples\"");
    public IEnumerable<Symbol> Symbols => [DiffusionCommon.Model, DiffusionCommon.Scheduler, Sampler, Steps, Eta, Seed, Count, DiffusionCommon.Class, Guidance, Size, Columns, Out, Tensor];

    public int Run(ParseResult args)
    {
        var sampler = args.GetValue(Sampler)!.ToLowerInvariant();
        var preset = SchedulerPresets.Resolve(sampler); // unknown names fail here, listing the known ones
        using var unet = DiffusionCommon.LoadModel(args);
        var schedulerPath = DiffusionCommon.SchedulerPath(args);
        int count = args.GetValue(Count);
        int? size = args.GetValue(Size);
        var options = new SamplingOptions(
            Count: count,
            Steps: 0,
            Eta: args.GetValue(Eta),
            Seed: args.GetValue(Seed),
            ClassLabels: DiffusionCommon.ClassLabels(args, unet, count),
            GuidanceScale: args.GetValue(Guidance),
            Height: size, Width: size);
        var outPath = args.GetValue(Out)!;
        var tensorPath = args.GetValue(Tensor);
        int columns = args.GetValue(Columns) ?? (ClassifierFreeGuidance.NullClass(unet) is long n && args.GetValue(DiffusionCommon.Class) is null or "all"
            ? (int)Math.Min(n, count) : (int)Math.Ceiling(Math.Sqrt(count)));

        var watch = Stopwatch.StartNew();
        TorchSharp.torch.Tensor samples;
        if (sampler == "ddim")
        {
            var scheduler = DDIMScheduler.FromConfigFile(schedulerPath);
            options = options with { Steps = args.GetValue(Steps, 50, min: 1, max: scheduler.Config.NumTrainTimesteps) };
            samples = DiffusionCommon.WithSteps($"DDIM eta {options.Eta}", options.Steps, p => new DDIMPipeline(unet, scheduler).Sample(options, p));
        }
        else if (sampler != "ddpm")
        {
            var scheduler = SchedulerPresets.FromConfigFile(schedulerPath, preset.Name);
            options = options with { Steps = args.GetValue(Steps, 50, min: 1, max: scheduler.Config.NumTrainTimesteps) };
            samples = DiffusionCommon.WithSteps(preset.Name, options.Steps, p => new UNet2DPipeline(unet, scheduler).Sample(options, p));
        }
        else
        {
            var scheduler = DDPMScheduler.FromConfigFile(schedulerPath);
            options = options with { Steps = args.GetValue(Steps, scheduler.Config.NumTrainTimesteps, min: 1, max: scheduler.Config.NumTrainTimesteps) };
            samples = DiffusionCommon.WithSteps("DDPM", options.Steps, p => new DDPMPipeline(unet, scheduler).Sample(options, p));
        }
        using (samples)
        {
            watch.Stop();
            Images.SaveGrid(samples, outPath, columns, low: -1, high: 1);
            if (tensorPath is not null) StateDict.SaveSafetensors(new Dictionary<string, TorchSharp.torch.Tensor> { ["samples"] = samples }, tensorPath);
            AnsiConsole.WriteLine($"{(sampler is "ddim" or "ddpm" ? sampler.ToUpperInvariant() : preset.Name)}: {count} sample(s), {options.Steps} steps, eta {options.Eta}, seed {options.Seed}" +
                (options.GuidanceScale != 1 ? $", guidance {options.GuidanceScale}" : "") +
                $" in {watch.Elapsed.TotalSeconds:F1} s ({watch.Elapsed.TotalMilliseconds / count:F0} ms/sample)");
            AnsiConsole.WriteLine($"Wrote {outPath}" + (tensorPath is null ? "" : $" and {tensorPath}"));
        }
        return 0;
    }
}
