using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Output;
using SharpVision.Experiments.VQVAE;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision vqvae ldm</c>: latent diffusion on a trained VQ-VAE's latents; DDIM samples and timing against pixel space.</summary>
public sealed class VQVAELatentDiffusionCommand : ICommand
{
    public string Name => "vqvae ldm";
    public string Summary => "Train a UNet2DModel on a VQ-VAE's latents, DDIM-sample and decode to a PNG; time per sample vs pixel space";
    public string Notes => """
        Pixel-space timing runs the same UNet widths on 1×32×32 images (untrained: only its speed is measured).
        """;

    static readonly Option<string> Checkpoint = Opt.Required("--checkpoint", "DIR",
        "a checkpoint written by 'vqvae train' (or its run folder: the newest one)");
    static readonly Option<int> Steps = Opt.Int("--steps", "UNet training steps", 2000, min: 1);
    static readonly Option<int> Width = Opt.Int("--width", "UNet block_out_channels [N, 2N]", 64, min: 8, max: 1024);
    static readonly Option<int> SampleSteps = Opt.Int("--sample-steps", "DDIM steps", 50, min: 1, max: 1000);
    static readonly Option<int> Count = Opt.Int("--count", "samples in the grid", 16, min: 1, max: 256);
    static readonly Option<string> Out = Opt.Text("--out", "FILE", "the PNG (default: ldm-samples.png)", "ldm-samples.png");
    static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 64, min: 1);
    static readonly Option<double> Lr = Opt.Double("--lr", "learning rate", 1e-3, min: 1e-8, max: 1);
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0, min: 0);
    public IEnumerable<Symbol> Symbols => [Checkpoint, Steps, Batch, Lr, Width, SampleSteps, Count, Out, Seed, .. VQVAEOptions.DataSymbols];

    public int Run(ParseResult args)
    {
        var checkpoint = args.GetValue(Checkpoint)!;
        int steps = args.GetValue(Steps);
        int width = args.GetValue(Width);
        if (width % 8 != 0) throw new UsageException($"--width must be a multiple of 8 (the UNet's norm groups); got {width}");
        int sampleSteps = args.GetValue(SampleSteps);
        int count = args.GetValue(Count);
        var png = args.GetValue(Out)!;
        var options = new LatentDiffusionOptions(args.GetValue(Batch), args.GetValue(Lr), args.GetValue(Seed));
        var (train, _, description) = VQVAEOptions.Data(args);
        if (!Directory.Exists(checkpoint)) throw new UsageException($"--checkpoint: no such folder {checkpoint}");

        var (vq, _, _) = VQVAETrainer.LoadModel(checkpoint);
        using (vq)
        {
            long latentSize = train.shape[2] / vq.DownsampleFactor;
            using var ldm = new LatentDiffusion(vq, LatentDiffusion.UNetConfig(vq.Config.EmbedDim, (int)latentSize, width), train, options);
            AnsiConsole.MarkupLine($"[bold]Latent diffusion[/] on {Markup.Escape(description)}: latents {string.Join("×", ldm.LatentShape)} " +
                                   string.Create(CultureInfo.InvariantCulture, $"(scaled by {ldm.LatentScale:F3})"));
            double last = double.NaN;
            ProgressDisplay.Run("img", ctx =>
            {
                var task = ctx.AddTask("UNet on latents", maxValue: (double)steps * options.BatchSize);
                ldm.Train(steps, (s, loss) =>
                {
                    last = loss;
                    task.Increment(options.BatchSize);
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"step {s}/{steps} loss {loss:F4}");
                });
                return 0;
            });

            var watch = Stopwatch.StartNew();
            using (var samples = ldm.Sample(count, sampleSteps, options.Seed))
            {
                watch.Stop();
                int p = VQVAEArchitecture.Padding;
                using var cropped = samples.narrow(2, p, samples.shape[2] - 2 * p).narrow(3, p, samples.shape[3] - 2 * p);
                Images.SaveGrid(cropped, png, columns: Math.Min(count, 8), low: -1, high: 1);
            }
            double latentMs = watch.Elapsed.TotalMilliseconds / count;

            using var pixelUnet = new UNet2DModel(LatentDiffusion.UNetConfig(1, (int)train.shape[2], width));
            var pixelWatch = Stopwatch.StartNew();
            using (LatentDiffusion.DdimSample(pixelUnet, new DDIMScheduler(), [count, 1, train.shape[2], train.shape[3]], sampleSteps, options.Seed)) { }
            double pixelMs = pixelWatch.Elapsed.TotalMilliseconds / count;

            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"final UNet loss {last:F4} after {steps} steps"));
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"time per sample ({sampleSteps} DDIM steps, batch {count}): latent {latentMs:F1} ms (incl. decode) vs pixel {pixelMs:F1} ms ({pixelMs / latentMs:F1}×)"));
            AnsiConsole.MarkupLine($"Wrote {Markup.Escape(png)}");
        }
        return 0;
    }
}
