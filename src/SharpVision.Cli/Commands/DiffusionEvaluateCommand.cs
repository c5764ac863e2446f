using System.Globalization;
using System.Text;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Diffusion.Evaluation;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Training;
using SharpVision.Nn.Checkpoints;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision diffusion evaluate</c>: FD-FMNIST of DDIM (eta 0 and 1) and DDPM samples, determinism and inversion.</summary>
public sealed class DiffusionEvaluateCommand : ICommand
{
    public string Name => "diffusion evaluate";
    public string Summary => "Compare DDIM (eta 0/1) and DDPM samplers by FD-FMNIST (not Inception FID), time, determinism, inversion";
    public string Usage => """
        sharpvision diffusion evaluate --model DIR --scheduler DIR [--classifier DIR] [--samples 500]
                                       [--steps 10,20,50,100] [--ddpm-steps 1000] [--batch 100] [--seed 0]
                                       [--guidance 1] [--invert 16] [--invert-steps 50] [--classifier-images 32000]
                                       [--solvers NAME,NAME] [--calls 5,10,20,50] [--data DIR] [--out DIR]

          FD-FMNIST: the Frechet distance between Gaussians fitted to the 128-d penultimate features of a
          Fashion-MNIST classifier (FashionClassifier, trained with SharpVision's cross-entropy) for generated
          images (32x32 centre-cropped to 28x28) and the real test images. It is NOT Inception FID; compare it
          only with FD-FMNIST from the same classifier and sample counts. The real-vs-real line (two halves of
          the test images) shows the floor that finite samples set.
          --classifier DIR  load the classifier from DIR, or train it and save it there (default: train, save
                            in OUT/classifier)
          --samples N       generated images per sampler setting (default 500)
          --solvers NAMES   further samplers on the model's trained schedule, by preset (euler, heun, dpm++2m,
                            dpm++2m-karras, unipc, deis, ...; see diffusion sample --help) or class name
          --calls LIST      their budgets in model evaluations (default 5,10,20,50; Heun and KDPM2 make two
                            per step, so they run fewer steps)
          --out DIR         evaluation.md, evaluation.csv, samples.png (one column per setting, in table
                            order), fd-vs-calls.png (FD against model calls, one line per sampler) and
                            inversion.png (rows: inputs, latents, reconstructions); default evaluation
        """;

    public int Run(Arguments args)
    {
        using var unet = DiffusionCommon.LoadModel(args);
        var schedulerPath = DiffusionCommon.SchedulerPath(args);
        var options = new EvaluationOptions(
            Samples: args.Int("samples", 500, min: 2),
            DdimSteps: Common.PositiveInts(args, "steps", [10, 20, 50, 100]),
            DdpmSteps: args.Int("ddpm-steps", 1000, min: 0),
            BatchSize: args.Int("batch", 100, min: 1),
            Seed: args.Int("seed", 0, min: 0),
            GuidanceScale: args.Double("guidance", 1.0, min: -100, max: 100),
            InversionImages: args.Int("invert", 16, min: 0),
            InversionSteps: args.Int("invert-steps", 50, min: 1),
            Solvers: args.Option("solvers") is { } solvers ? solvers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null,
            SolverCalls: Common.PositiveInts(args, "calls", [5, 10, 20, 50]));
        foreach (var solver in options.Solvers ?? []) SchedulerPresets.Resolve(solver); // fail before any work
        int classifierImages = args.Int("classifier-images", 32_000, min: 64);
        var outDir = args.Option("out") ?? "evaluation";
        var classifierDir = args.Option("classifier") ?? Path.Combine(outDir, "classifier");
        var (train, test, description) = Common.FashionMnistSplits(args);
        args.RejectUnknown();
        if (unet.Config.InChannels != 1) throw new UsageException($"--model: FD-FMNIST needs a 1-channel (greyscale) model; this one has {unet.Config.InChannels}");

        var classifier = DiffusionCommon.LoadOrTrainClassifier(classifierDir, train, test, classifierImages, description);
        using (classifier)
        {
            double accuracy = classifier.Accuracy(test);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Feature classifier test accuracy: {accuracy:P2} on {test.Count:N0} test images"));

            using var scope = torch.NewDisposeScope();
            var real = test.ImagesTensor(); // (N, 1, 28, 28) in [0, 1]
            int k = Math.Min(options.InversionImages, test.Count);
            var invSubset = test.Slice(0, k);
            int size = unet.Config.SampleSize is [int s, ..] ? s : FashionMnistDiffusionData.PaddedSize;
            var invImages = k > 0 ? FashionMnistDiffusionData.ToModelRange(invSubset, size) : null;
            long[]? invLabels = ClassifierFreeGuidance.NullClass(unet) is not null ? invSubset.Labels.Select(b => (long)b).ToArray() : null;

            var report = ProgressDisplay.Run("step", ctx =>
            {
                ProgressTask? task = null;
                string current = "";
                return DiffusionEvaluation.Run(unet, schedulerPath, classifier, real, invImages, invLabels, options, (name, p) =>
                {
                    if (name != current)
                    {
                        if (task is not null) task.Value = task.MaxValue;
                        current = name;
                        task = ctx.AddTask(Markup.Escape(name), maxValue: p.Steps * (double)Math.Ceiling(options.Samples / (double)options.BatchSize));
                    }
                    task!.Increment(1);
                });
            });
            Write(report, accuracy, options, outDir, invImages);
        }
        return 0;
    }

    static void Write(EvaluationReport report, double accuracy, EvaluationOptions options, string outDir, Tensor? inversionInputs)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title($"FD-FMNIST (classifier features, NOT Inception FID), {options.Samples} samples per setting")
            .AddColumn("sampler").AddColumn(new TableColumn("eta").RightAligned()).AddColumn(new TableColumn("steps").RightAligned())
            .AddColumn(new TableColumn("FD-FMNIST").RightAligned()).AddColumn(new TableColumn("ms / sample").RightAligned());
        foreach (var r in report.Rows)
            table.AddRow(r.Sampler, r.Eta.ToString("0", inv), r.Steps.ToString(inv), r.FdFmnist.ToString("F3", inv), (r.SecondsPerSample * 1000).ToString("F1", inv));
        table.AddRow("real vs real", "", "", report.RealVsReal.ToString("F3", inv), "");
        AnsiConsole.Write(table);
        foreach (var l in Findings(report, options)) AnsiConsole.WriteLine(l);
        WriteFiles(report, accuracy, options, outDir, inversionInputs);
        AnsiConsole.WriteLine($"Wrote {Path.Combine(outDir, "evaluation.md")}, evaluation.csv, samples.png (columns in table order), fd-vs-calls.png and inversion.png");
    }

    /// <summary>The determinism and inversion sentences.</summary>
    public static IReadOnlyList<string> Findings(EvaluationReport report, EvaluationOptions options)
    {
        var lines = new List<string> { $"Determinism: DDIM eta 0 twice from the same noise is {(report.Deterministic ? "bit-identical" : "NOT bit-identical")}." };
        if (report.Inversion is { } r2)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"DDIM inversion of {r2.RmsError.Length} test images ({options.InversionSteps} steps, pixels in [-1, 1]): round-trip RMS error {r2.MeanRmsError:F5}, max |error| {r2.MaxAbsError:F5}."));
        return lines;
    }

    /// <summary>
    /// Writes evaluation.md, evaluation.csv, samples.png (one column per setting, in table order), fd-vs-calls.png and, with inversion results,
    /// inversion.png (rows: inputs, latents, reconstructions) into <paramref name="outDir"/>.
    /// </summary>
    public static void WriteFiles(EvaluationReport report, double accuracy, EvaluationOptions options, string outDir, Tensor? inversionInputs)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Sampler comparison (FD-FMNIST)").AppendLine();
        md.AppendLine(string.Create(inv, $"FD-FMNIST is the Fréchet distance between Gaussians fitted to the 128-d penultimate features of a Fashion-MNIST classifier (test accuracy {accuracy:P2}) for {options.Samples} generated images per setting and the real test images. It is **not** Inception FID."));
        md.AppendLine().AppendLine("| sampler | eta | steps | model calls | FD-FMNIST | ms / sample |").AppendLine("|---|---:|---:|---:|---:|---:|");
        var csv = new StringBuilder("sampler,eta,steps,fd_fmnist,seconds_per_sample,samples,model_calls\n");
        foreach (var r in report.Rows)
        {
            md.AppendLine(string.Create(inv, $"| {r.Sampler} | {r.Eta:0} | {r.Steps} | {r.ModelCalls} | {r.FdFmnist:F3} | {r.SecondsPerSample * 1000:F1} |"));
            csv.AppendLine(string.Create(inv, $"{r.Sampler},{r.Eta:0},{r.Steps},{r.FdFmnist:F6},{r.SecondsPerSample:F6},{options.Samples},{r.ModelCalls}"));
        }
        md.AppendLine(string.Create(inv, $"| real vs real (two halves of the test set) | | | | {report.RealVsReal:F3} | |"));
        csv.AppendLine(string.Create(inv, $"real_vs_real,,,{report.RealVsReal:F6},,,"));
        foreach (var l in Findings(report, options)) md.AppendLine().AppendLine(l);

        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "evaluation.md"), md.ToString());
        AtomicFile.WriteAllText(Path.Combine(outDir, "evaluation.csv"), csv.ToString());
        using var scope = torch.NewDisposeScope();
        // One column per setting: row i holds sample i of every setting.
        int rows = report.Rows.Min(r => (int)r.Grid.shape[0]);
        var cells = torch.stack(report.Rows.Select(r => r.Grid.narrow(0, 0, rows)).ToArray(), 1); // (rows, settings, C, H, W)
        Images.SaveGrid(cells.flatten(0, 1), Path.Combine(outDir, "samples.png"), columns: report.Rows.Count, low: -1, high: 1);
        if (report.Inversion is { } r3 && inversionInputs is not null)
            Images.SaveGrid(torch.cat([inversionInputs, r3.Latents.clamp(-1, 1), r3.Reconstruction]), Path.Combine(outDir, "inversion.png"),
                columns: (int)inversionInputs.shape[0], low: -1, high: 1);
        BudgetChart(report, options, Path.Combine(outDir, "fd-vs-calls.png"));
    }

    /// <summary>
    /// FD-FMNIST against model calls, both on log axes: one line per sampler family (DDIM eta 0 and 1, each solver),
    /// DDPM and the real-vs-real floor as dashed reference lines.
    /// </summary>
    static void BudgetChart(EvaluationReport report, EvaluationOptions options, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        var series = report.Rows.Where(r => r.Family != "DDPM").GroupBy(r => r.Family)
            .Select(g => new Series(g.Key, g.Select(r => Math.Log2(r.ModelCalls)).ToArray(), g.Select(r => Math.Log10(Math.Max(r.FdFmnist, 1e-3))).ToArray()))
            .ToList();
        var references = report.Rows.Where(r => r.Family == "DDPM")
            .Select(r => (string.Create(inv, $"DDPM {r.Steps} steps"), Math.Log10(Math.Max(r.FdFmnist, 1e-3))))
            .Append(("real vs real", Math.Log10(Math.Max(report.RealVsReal, 1e-3)))).ToList();
        var calls = report.Rows.Where(r => r.Family != "DDPM").Select(r => r.ModelCalls).Distinct().Order()
            .Select(c => (Math.Log2(c), c.ToString(inv))).ToArray();
        var values = series.SelectMany(s => s.Y).Concat(references.Select(r => r.Item2)).ToList();
        var fdTicks = LogTicks(values.Min(), values.Max());
        Charts.Lines(path, string.Create(inv, $"FD-FMNIST against model calls ({options.Samples} samples per point, lower is better)"),
            "model calls (UNet evaluations per sample)", "FD-FMNIST", series, calls, width: 960, height: 620,
            references: references, legend: ScottPlot.Alignment.UpperRight, yTicks: fdTicks);
    }

    /// <summary>1-2-5 ticks between two log10 values, labelled with the values themselves.</summary>
    static (double Position, string Label)[] LogTicks(double low, double high)
    {
        var ticks = new List<(double, string)>();
        for (int decade = (int)Math.Floor(low) - 1; decade <= (int)Math.Ceiling(high); decade++)
            foreach (double m in new[] { 1.0, 2.0, 5.0 })
            {
                double v = m * Math.Pow(10, decade), position = Math.Log10(v);
                if (position >= low - 0.35 && position <= high + 0.35) ticks.Add((position, v.ToString("0.###", CultureInfo.InvariantCulture)));
            }
        return ticks.ToArray();
    }
}
