using System.CommandLine;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.VQVAE;
using SharpVision.Nn.Training;
using Spectre.Console;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision vqvae train</c>: trains a VQ-VAE (diffusers VQModel) on Fashion-MNIST with resumable checkpoints.</summary>
public sealed class VQVAETrainCommand : ICommand
{
    public string Name => "vqvae train";
    public string Summary => "Train a VQ-VAE (diffusers VQModel) on Fashion-MNIST; resumable checkpoints, test MSE/perplexity/code use";

    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "run folder; checkpoints in DIR/checkpoints/checkpoint-N (model/ in diffusers' format, optimizer.bin, " +
        "generator.safetensors, trainer_state.json) (default: vqvae-run)", "vqvae-run");
    static readonly Option<int> Steps = Opt.Int("--steps", "total training steps; with --resume, the run continues up to N", 2000, min: 1);
    static readonly Option<string> Quantizer = Opt.Text("--quantizer", "Q",
        "ste: codebook + commitment loss; ema: moving-average codebook; ema-restart: EMA and dead-code " +
        "restarts", "ema-restart")
        .Suggest("ste", "ema", "ema-restart");
    static readonly Option<int> SaveEvery = Opt.Int("--save-every",
        "also checkpoint every N steps (default 500; 0: only at the end)", 500, min: 0);
    static readonly Option<bool> Resume = Opt.Flag("--resume",
        "continue from the newest complete checkpoint (its options win over the ones given here, except --lr " +
        "when given)");
    public IEnumerable<Symbol> Symbols => [Out, Steps, Quantizer, SaveEvery, Resume, .. VQVAEOptions.ModelSymbols];

    public int Run(ParseResult args)
    {
        var outDir = args.GetValue(Out)!;
        long steps = args.GetValue(Steps);
        int saveEvery = args.GetValue(SaveEvery);
        bool resume = args.GetValue(Resume);
        var variant = VQVAEOptions.Variant(args.GetValue(Quantizer)!, "quantizer");
        var config = VQVAEOptions.Config(args);
        var options = VQVAEOptions.Training(args) with { Quantizer = VQVAEComparison.QuantizerFor(variant) };
        var (train, test, description) = VQVAEOptions.Data(args);
        if (options.BatchSize > train.shape[0]) throw new UsageException($"--batch {options.BatchSize} exceeds the {train.shape[0]} training images");

        using var folderLock = OutputFolderLock.Acquire(outDir);
        var checkpoints = Path.Combine(outDir, "checkpoints");
        if (resume && CheckpointFolders.Latest(checkpoints) is null) throw new UsageException($"--resume: no complete checkpoint under {checkpoints}");
        using var trainer = resume ? VQVAETrainer.Resume(checkpoints, train, !args.Given(VQVAEOptions.Lr) ? null : options.LearningRate)
            : new VQVAETrainer(config, train, options);
        AnsiConsole.MarkupLine($"[bold]VQ-VAE[/] on {Markup.Escape(description)}; quantizer {Markup.Escape(VQVAEComparison.Name(variant))}" +
                               (resume ? $", resuming at step {trainer.Step}" : ""));
        long remaining = Math.Max(0, steps - trainer.Step);
        ProgressDisplay.Run("img", ctx =>
        {
            var task = ctx.AddTask("training", maxValue: steps * trainer.Options.BatchSize);
            task.Value = trainer.Step * trainer.Options.BatchSize;
            trainer.Train(remaining, s =>
            {
                task.Increment(trainer.Options.BatchSize);
                task.Description = string.Create(CultureInfo.InvariantCulture, $"step {s.Step}/{steps} loss {s.Loss:F4} ppl {s.Perplexity:F1}");
                if (saveEvery > 0 && s.Step % saveEvery == 0 && s.Step < steps) trainer.Save(checkpoints);
            });
            return 0;
        });
        var checkpoint = trainer.Save(checkpoints);
        var eval = VQVAETrainer.Evaluate(trainer.Model, test, VQVAEArchitecture.Padding);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {trainer.Step}: test MSE {eval.Mse:F5}, perplexity {eval.Perplexity:F1} of {trainer.Model.Config.NumVqEmbeddings}, codes used {eval.Usage:P1} ({eval.Images:N0} images)"));
        AnsiConsole.MarkupLine($"Checkpoint: {Markup.Escape(checkpoint)} (diffusers VQModel in {Markup.Escape(Path.Combine(checkpoint, VQVAETrainer.ModelFolder))})");
        return 0;
    }
}
