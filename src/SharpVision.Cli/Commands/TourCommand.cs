using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Cli.Tour;
using SharpVision.Nn.Training;
using Spectre.Console;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision tour</c>: every component on real data, written up as an HTML report.</summary>
public sealed class TourCommand : ICommand
{
    public string Name => "tour";
    public string Summary => "Run every component on Fashion-MNIST and write tour-report/index.html (+ summary.json, PNGs)";
    public string Notes => $"Sections, in order: {string.Join(", ", TourStages.All.Select(s => s.Id))}.";

    static readonly Option<string> Budget = Opt.Text("--budget", "quick|full|smoke",
        "quick: under 20 minutes on 2 cores with the embedded Fashion-MNIST split; full: longer training on the full data " +
        "(--data DIR, default /usr/share/datasets/fashion-mnist); smoke: every code path in about a minute, the figures mean " +
        "nothing (used by the tests)", "quick").Suggest("quick", "full", "smoke");
    static readonly Option<string> Only = Opt.Text("--only", "LIST",
        "run only these sections, comma-separated (and any they need that have not finished yet)")
        .Suggest(TourStages.All.Select(s => s.Id));
    static readonly Option<bool> Fresh = Opt.Flag("--fresh",
        "rerun sections that already finished; otherwise a rerun reuses them (same budget), so an interrupted " +
        "tour loses only the section in progress");
    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "report folder: index.html, summary.json, one folder per section", "tour-report");
    static readonly Option<int> Threads = Opt.Int("--threads",
        "libtorch threads per model (1: these small models ran faster on one thread than on two here, and a " +
        "second thread stalls badly when anything else uses the machine; the normalization section runs one " +
        "study per core instead)", 1, min: 1, max: 256);
    public IEnumerable<Symbol> Symbols => [Budget, Only, Fresh, Out, Common.Data, Threads];

    const string FullDataDefault = "/usr/share/datasets/fashion-mnist";

    public int Run(ParseResult args)
    {
        TourBudget budget;
        try { budget = TourBudget.Parse(args.GetValue(Budget)!); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var outDir = Path.GetFullPath(args.GetValue(Out)!);
        bool fresh = args.GetValue(Fresh);
        var only = args.GetValue(Only);
        int threads = args.GetValue(Threads);
        if (budget == TourBudget.Full && !args.Given(Common.Data) && !Directory.Exists(FullDataDefault))
            throw new UsageException($"--budget full needs the full Fashion-MNIST: --data DIR (or Debian's dataset-fashion-mnist in {FullDataDefault})");
        var (train, test, description) = budget == TourBudget.Full && !args.Given(Common.Data)
            ? Common.FashionMnistSplits(FullDataDefault)
            : Common.FashionMnistSplits(args);

        var stages = TourStages.All;
        var selected = only is null ? stages.Select(s => s.Id).ToHashSet() : ParseOnly(only, stages);
        using var folderLock = OutputFolderLock.Acquire(outDir);
        torch.set_num_threads(threads);

        // Stages that are to run: selected and (fresh, or not finished under this budget); plus what they need that is missing.
        bool Finished(TourStage s) => TourReport.LoadStage(outDir, s.Id) is { } r && r.Budget == budget.Name;
        var toRun = stages.Where(s => selected.Contains(s.Id) && (fresh || !Finished(s))).Select(s => s.Id).ToHashSet();
        foreach (var s in stages.Reverse())
            if (toRun.Contains(s.Id))
                foreach (var need in s.Requires)
                    if (!Finished(stages.Single(x => x.Id == need)) && toRun.Add(need))
                        AnsiConsole.MarkupLine($"[grey]{s.Id} needs {need}, which has not finished under budget {budget.Name}: running it too[/]");
        var plan = stages.Where(s => toRun.Contains(s.Id)).ToList();
        var reused = stages.Where(s => selected.Contains(s.Id) && !toRun.Contains(s.Id)).Select(s => s.Id).ToList();

        AnsiConsole.MarkupLine($"[bold]SharpVision tour[/], budget {budget.Name}, on {Markup.Escape(description)}; report in {Markup.Escape(outDir)}");
        if (reused.Count > 0) AnsiConsole.MarkupLine($"[grey]Reusing finished sections: {string.Join(", ", reused)} (--fresh reruns them)[/]");
        TourReport.Write(outDir, stages, description);

        var clock = Stopwatch.StartNew();
        var finished = new List<StageResult>();
        ProgressDisplay.Run(null, ctx =>
        {
            double total = plan.Sum(s => s.ExpectedSeconds), done = 0;
            var overall = ctx.AddTask($"[bold]tour[/] 0/{plan.Count} sections", maxValue: Math.Max(total, 1));
            for (int i = 0; i < plan.Count; i++)
            {
                var stage = plan[i];
                overall.Description = $"[bold]tour[/] {i}/{plan.Count} sections";
                var task = ctx.AddTask(Markup.Escape(stage.Title), maxValue: 1);
                var context = new TourContext(outDir, budget, train, test, description, (fraction, status) =>
                {
                    task.Value = fraction;
                    task.Description = Markup.Escape($"{stage.Title}: {status}");
                    overall.Value = done + fraction * stage.ExpectedSeconds;
                });
                var watch = Stopwatch.StartNew();
                var result = stage.Run(context) with { Seconds = watch.Elapsed.TotalSeconds, FinishedUtc = DateTime.UtcNow, Budget = budget.Name };
                TourReport.SaveStage(outDir, result);
                TourReport.Write(outDir, stages, description);
                finished.Add(result);
                task.Value = 1;
                task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{stage.Title}: done in {result.Seconds:F0} s"));
                done += stage.ExpectedSeconds;
                overall.Value = done;
            }
            overall.Description = $"[bold]tour[/] {plan.Count}/{plan.Count} sections";
            return 0;
        });

        foreach (var r in finished) AnsiConsole.MarkupLine($"[bold]{Markup.Escape(r.Title)}[/]: {Markup.Escape(r.Measured)}");
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Ran {plan.Count} section(s) in {clock.Elapsed.TotalMinutes:F1} min. Report: {Markup.Escape(Path.Combine(outDir, TourReport.IndexFile))}, figures: {Markup.Escape(Path.Combine(outDir, TourReport.SummaryFile))}"));
        return 0;
    }

    static HashSet<string> ParseOnly(string text, IReadOnlyList<TourStage> stages)
    {
        var ids = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length == 0) throw new UsageException("--only needs at least one section");
        foreach (var id in ids)
            if (!stages.Any(s => s.Id == id))
                throw new UsageException($"--only: unknown section '{id}' (allowed: {string.Join(", ", stages.Select(s => s.Id))})");
        return ids.ToHashSet();
    }
}
