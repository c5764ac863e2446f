using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.VQVAE;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision vqvae reconstruct</c>: test images above their reconstructions, and the test figures.</summary>
public sealed class VQVAEReconstructCommand : ICommand
{
    public string Name => "vqvae reconstruct";
    public string Summary => "Reconstruct Fashion-MNIST test images with a trained VQ-VAE: PNG (inputs above outputs), test MSE, perplexity, codes used";
    public string Usage => """
        sharpvision vqvae reconstruct --checkpoint DIR [--out FILE.png] [--count N] [--data DIR] [--test-images N]

          --checkpoint DIR    a checkpoint written by 'vqvae train' (e.g. vqvae-run: its newest one)
          --out FILE          the PNG (default: reconstructions.png)
          --count N           images shown (default 16), one row of inputs above one of reconstructions
          --data DIR          Fashion-MNIST IDX files; default: the embedded split's last 2,000 images
          --test-images N     evaluate on only the first N test images (default: all)
        """;

    public int Run(Arguments args)
    {
        var checkpoint = args.Required("checkpoint");
        var png = args.Option("out") ?? "reconstructions.png";
        int count = args.Int("count", 16, min: 1, max: 256);
        var (_, test, description) = VQVAEOptions.Data(args, needTrain: false);
        args.RejectUnknown();
        if (!Directory.Exists(checkpoint)) throw new UsageException($"--checkpoint: no such folder {checkpoint}");

        var (model, _, step) = VQVAETrainer.LoadModel(checkpoint);
        using (model)
        {
            VQVAEReconstructions.Save(model, test, count, png);
            var eval = VQVAETrainer.Evaluate(model, test, VQVAEArchitecture.Padding);
            AnsiConsole.MarkupLine($"Checkpoint at step {step}; {Markup.Escape(description)}");
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"test MSE {eval.Mse:F5}, perplexity {eval.Perplexity:F1} of {model.Config.NumVqEmbeddings}, codes used {eval.Usage:P1} ({eval.Images:N0} images)"));
            AnsiConsole.MarkupLine($"Wrote {Markup.Escape(png)} (top: inputs, bottom: reconstructions)");
        }
        return 0;
    }
}
