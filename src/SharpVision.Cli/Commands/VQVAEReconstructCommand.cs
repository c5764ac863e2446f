using System.CommandLine;
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

    static readonly Option<string> Checkpoint = Opt.Required("--checkpoint", "DIR",
        "a checkpoint written by 'vqvae train' (e.g. vqvae-run: its newest one)");
    static readonly Option<string> Out = Opt.Text("--out", "FILE", "the PNG (default: reconstructions.png)", "reconstructions.png");
    static readonly Option<int> Count = Opt.Int("--count", "images shown, one row of inputs above one of reconstructions", 16, min: 1, max: 256);
    public IEnumerable<Symbol> Symbols => [Checkpoint, Out, Count, .. VQVAEOptions.DataSymbols];

    public int Run(ParseResult args)
    {
        var checkpoint = args.GetValue(Checkpoint)!;
        var png = args.GetValue(Out)!;
        int count = args.GetValue(Count);
        var (_, test, description) = VQVAEOptions.Data(args, needTrain: false);
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
