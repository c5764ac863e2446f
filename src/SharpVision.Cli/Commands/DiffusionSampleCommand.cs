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
    public string Usage => """
        sharpvision diffusion sample --model DIR --scheduler DIR [--sampler ddim|ddpm|NAME] [--steps 50] [--eta 0]
                                     [--seed 1] [--count 16] [--class K|K1,K2|all|null] [--guidance S]
                                     [--size H] [--columns N] [--out samples.png] [--tensor FILE]

          --model DIR       diffusers UNet2DModel folder (config.json + diffusion_pytorch_model.safetensors)
          --scheduler DIR   folder (or file) with scheduler_config.json; read as DDIM or DDPM config
          --sampler NAME    ddim (default), ddpm, or any scheduler on the model's trained schedule: a preset
                            (euler, euler-ancestral, heun, lms, pndm, dpm++2m, dpm++2m-karras, dpm++2m-sde,
                            dpm++3m, dpm-singlestep, unipc, deis, kdpm2, kdpm2-ancestral, lcm) or a diffusers
                            class name (EulerDiscreteScheduler, ...)
          --steps N         denoising steps (default 50; ddpm: default num_train_timesteps, the full chain)
          --eta E           DDIM noise weight: 0 deterministic (same seed, bit-identical images), 1 DDPM-like
          --class ...       class-conditional models: one id, a list (repeated), 'all' (the default: cycle
                            through the classes) or 'null' (unconditional). The null class is the last id,
                            num_class_embeds - 1.
          --guidance S      classifier-free guidance scale (default 1: no guidance)
          --size H          sample height and width (default: the model's sample_size)
          --tensor FILE     also write the raw samples (float32, model range) as safetensors key "samples"
        """;

    public int Run(Arguments args)
    {
        var sampler = (args.Option("sampler") ?? "ddim").ToLowerInvariant();
        var preset = SchedulerPresets.Resolve(sampler); // unknown names fail here, listing the known ones
        using var unet = DiffusionCommon.LoadModel(args);
        var schedulerPath = DiffusionCommon.SchedulerPath(args);
        int count = args.Int("count", 16, min: 1, max: 4096);
        int? size = args.Option("size") is null ? null : args.Int("size", 0, min: 1, max: 4096);
        var options = new SamplingOptions(
            Count: count,
            Steps: 0,
            Eta: args.Double("eta", 0, min: 0, max: 10),
            Seed: args.Int("seed", 1, min: 0),
            ClassLabels: DiffusionCommon.ClassLabels(args, unet, count),
            GuidanceScale: args.Double("guidance", 1.0, min: -100, max: 100),
            Height: size, Width: size);
        var outPath = args.Option("out") ?? "samples.png";
        var tensorPath = args.Option("tensor");
        int columns = args.Int("columns", ClassifierFreeGuidance.NullClass(unet) is long n && args.Option("class") is null or "all"
            ? (int)Math.Min(n, count) : (int)Math.Ceiling(Math.Sqrt(count)), min: 1);

        var watch = Stopwatch.StartNew();
        TorchSharp.torch.Tensor samples;
        if (sampler == "ddim")
        {
            var scheduler = DDIMScheduler.FromConfigFile(schedulerPath);
            options = options with { Steps = args.Int("steps", 50, min: 1, max: scheduler.Config.NumTrainTimesteps) };
            args.RejectUnknown();
            samples = DiffusionCommon.WithSteps($"DDIM eta {options.Eta}", options.Steps, p => new DDIMPipeline(unet, scheduler).Sample(options, p));
        }
        else if (sampler != "ddpm")
        {
            var scheduler = SchedulerPresets.FromConfigFile(schedulerPath, preset.Name);
            options = options with { Steps = args.Int("steps", 50, min: 1, max: scheduler.Config.NumTrainTimesteps) };
            args.RejectUnknown();
            samples = DiffusionCommon.WithSteps(preset.Name, options.Steps, p => new UNet2DPipeline(unet, scheduler).Sample(options, p));
        }
        else
        {
            var scheduler = DDPMScheduler.FromConfigFile(schedulerPath);
            options = options with { Steps = args.Int("steps", scheduler.Config.NumTrainTimesteps, min: 1, max: scheduler.Config.NumTrainTimesteps) };
            args.RejectUnknown();
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
