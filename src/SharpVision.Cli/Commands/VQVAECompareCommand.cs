using System.CommandLine;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Experiments.VQVAE;
using SharpVision.Nn.Checkpoints;
using Spectre.Console;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision vqvae compare</c>: STE vs EMA vs EMA with dead-code restart at the same budget.</summary>
public sealed class VQVAECompareCommand : ICommand
{
    public string Name => "vqvae compare";
    public string Summary => "Compare VQ-VAE codebook learning (STE, EMA, EMA + dead-code restart) at one budget: Markdown/CSV table and conclusion";

    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "where vqvae-compare.md and vqvae-compare.csv go (default: vqvae-compare)", "vqvae-compare");
    static readonly Option<int> Steps = Opt.Int("--steps", "training steps per variant", 1000, min: 1);
    static readonly Option<string> Variants = Opt.Text("--variants", "LIST", "which to run (default ste,ema,ema-restart)", "ste,ema,ema-restart");
    public IEnumerable<Symbol> Symbols => [Out, Steps, Variants, .. VQVAEOptions.ModelSymbols];

    public int Run(ParseResult args)
    {
        var outDir = args.GetValue(Out)!;
        long steps = args.GetValue(Steps);
        var variants = args.GetValue(Variants)!.Split(',')
            .Select(v => VQVAEOptions.Variant(v, "variants")).Distinct().ToArray();
        var config = VQVAEOptions.Config(args);
        var options = VQVAEOptions.Training(args);
        var (train, test, description) = VQVAEOptions.Data(args);
        if (options.BatchSize > train.shape[0]) throw new UsageException($"--batch {options.BatchSize} exceeds the {train.shape[0]} training images");

        AnsiConsole.MarkupLine($"[bold]VQ-VAE codebook comparison[/] on {Markup.Escape(description)}; {steps} steps of {options.BatchSize} per variant");
        var header = $"# VQ-VAE codebook learning on Fashion-MNIST\n\n{description}; {steps} steps × batch {options.BatchSize} per variant, " +
                     $"block_out_channels [{string.Join(", ", config.BlockOutChannels)}], {config.NumVqEmbeddings} codes of dimension {config.EmbedDim}. " +
                     "Test MSE in [0, 1] pixel units over the 28×28 pixels; perplexity and codes used over every latent position of the test set.\n\n";
        var mdPath = Path.Combine(outDir, "vqvae-compare.md");
        var csvPath = Path.Combine(outDir, "vqvae-compare.csv");
        // Written after every variant, so an interrupted run keeps the finished rows.
        void Write(IReadOnlyList<VQVAEComparisonRow> done)
        {
            AtomicFile.WriteAllText(mdPath, header + VQVAEComparison.Markdown(done, config.NumVqEmbeddings) + "\n" + VQVAEComparison.Conclusion(done) + "\n");
            AtomicFile.WriteAllText(csvPath, VQVAEComparison.Csv(done));
        }
        var rows = ProgressDisplay.Run("img", ctx =>
        {
            var tasks = variants.ToDictionary(v => v, v => ctx.AddTask(VQVAEComparison.Name(v), maxValue: steps * options.BatchSize));
            return VQVAEComparison.Run(variants, config, train, test, VQVAEArchitecture.Padding, steps, options,
                (v, s) => tasks[v].Increment(options.BatchSize), Write);
        });

        var markdown = VQVAEComparison.Markdown(rows, config.NumVqEmbeddings);
        var conclusion = VQVAEComparison.Conclusion(rows);
        AnsiConsole.WriteLine(markdown);
        AnsiConsole.WriteLine(conclusion);
        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(mdPath)} and {Markup.Escape(csvPath)}");
        return 0;
    }
}
