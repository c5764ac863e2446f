using System.CommandLine;
using System.Globalization;
using System.Text;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Experiments.Normalization;
using Spectre.Console;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision norms</c>: the normalization batch-size study.</summary>
public sealed class NormsCommand : ICommand
{
    public string Name => "norms";
    public string Summary => "Train a small CNN with BN, GN, LN, IN and SN at batch sizes 2–64; table, CSV and chart";

    static readonly Option<string> Out = Opt.Text("--out", "DIR", "where norms.csv and norms.png go (default: norms-study)", "norms-study");
    static readonly Option<int> Images = Opt.Int("--images",
        "images seen by every run, whatever its batch size (default 24000: three epochs of the embedded " +
        "split)", 24_000, min: 1);
    static readonly Option<double> Lr = Opt.Double("--lr",
        "SGD learning rate at batch 16, scaled linearly with batch size", 0.05, min: 1e-8, max: 10, metavar: "RATE");
    static readonly Option<int> Threads = Opt.Int("--threads",
        "libtorch intra-op threads (default 1: this network's small convolutions run faster on one thread " +
        "than on two, so runs go in parallel, one per core, instead)", 1, min: 1, max: Environment.ProcessorCount);
    static readonly Option<string> Layers = Opt.Text("--layers", "LIST", "normalization layers, comma-separated", "bn,gn,ln,in,sn");
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0);
    static readonly Option<int[]> BatchSizes = Opt.PositiveInts("--batch-sizes", "batch sizes, comma-separated", [2, 4, 16, 64]);
    public IEnumerable<Symbol> Symbols => [Common.Data, Out, BatchSizes, Layers, Images, Lr, Seed, Threads];

    static readonly Dictionary<string, NormKind> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bn"] = NormKind.BatchNorm, ["gn"] = NormKind.GroupNorm, ["ln"] = NormKind.LayerNorm,
        ["in"] = NormKind.InstanceNorm, ["sn"] = NormKind.SwitchNorm,
    };

    public int Run(ParseResult args)
    {
        var batchSizes = args.GetValue(BatchSizes)!;
        var kinds = args.GetValue(Layers)!.Split(',').Select(n =>
            Names.TryGetValue(n.Trim(), out var k) ? k : throw new UsageException($"--layers: unknown layer '{n}' (allowed: {string.Join(", ", Names.Keys)})")).Distinct().ToArray();
        var options = new NormalizationStudyOptions(kinds, batchSizes,
            Images: args.GetValue(Images),
            BaseLearningRate: args.GetValue(Lr),
            Seed: args.GetValue(Seed));
        int threads = args.GetValue(Threads);
        var outDir = args.GetValue(Out)!;
        var (train, test, description) = Common.FashionMnistSplits(args);
        if (batchSizes.Max() > train.Count) throw new UsageException($"--batch-sizes: {batchSizes.Max()} exceeds the {train.Count} training images");

        AnsiConsole.MarkupLine($"[bold]Normalization study[/] on {Markup.Escape(description)}; {options.Images:N0} images per run, SGD lr {options.BaseLearningRate} at batch {options.BaseBatch} (linear scaling)");
        var runs = ProgressDisplay.Run("img", ctx =>
        {
            var overall = ctx.AddTask("[bold]all runs[/]", maxValue: (double)kinds.Length * batchSizes.Length * options.Images);
            var tasks = kinds.SelectMany(k => batchSizes.Select(b => (k, b)))
                .ToDictionary(p => p, p => ctx.AddTask($"{NormalizationStudyFiles.Short(p.k)} batch {p.b,2}", autoStart: false, maxValue: options.Images));
            var seen = new Dictionary<(NormKind, int), long>();
            var gate = new object();
            return NormalizationStudy.RunAll(train, test, options,
                (kind, bs, p) =>
                {
                    lock (gate)
                    {
                        var task = tasks[(kind, bs)];
                        if (!task.IsStarted) task.StartTask();
                        long last = seen.GetValueOrDefault((kind, bs));
                        task.Increment(p.ImagesSeen - last);
                        overall.Increment(p.ImagesSeen - last);
                        seen[(kind, bs)] = p.ImagesSeen;
                    }
                },
                run =>
                {
                    lock (gate)
                    {
                        var task = tasks[(run.Kind, run.BatchSize)];
                        task.Value = task.MaxValue;
                        task.Description = $"{NormalizationStudyFiles.Short(run.Kind)} batch {run.BatchSize,2}: {run.TestAccuracy:P1}";
                    }
                },
                parallelism: Math.Max(1, Environment.ProcessorCount / threads), threadsPerRun: threads);
        });

        var table = new Table().Title("Test accuracy").AddColumn("layer");
        foreach (var bs in batchSizes) table.AddColumn(new TableColumn($"batch {bs}").RightAligned());
        foreach (var kind in kinds)
            table.AddRow([NormalizationStudyFiles.Short(kind), .. batchSizes.Select(bs => $"{runs.Single(r => r.Kind == kind && r.BatchSize == bs).TestAccuracy:P1}")]);
        AnsiConsole.Write(table);

        var csvPath = Path.Combine(outDir, "norms.csv");
        NormalizationStudyFiles.Csv(csvPath, runs);
        var pngPath = Path.Combine(outDir, "norms.png");
        NormalizationStudyFiles.Chart(pngPath, runs, options);

        foreach (var r in runs.Where(r => r.SwitchWeights.Count > 0))
        {
            AnsiConsole.MarkupLine($"[bold]SN importance weights[/] at batch {r.BatchSize} (softmax over IN, LN, BN):");
            foreach (var w in r.SwitchWeights)
                AnsiConsole.MarkupLine($"  {w.Layer,-6} mean {NormalizationStudyFiles.Triple(w.Mean)}   var {NormalizationStudyFiles.Triple(w.Variance)}");
        }
        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(csvPath)} and {Markup.Escape(pngPath)}");
        return 0;
    }
}
