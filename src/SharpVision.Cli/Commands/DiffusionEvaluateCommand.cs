using System.CommandLine;
using System.Globalization;
using System.Text;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Diffusion;
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
    public string Notes => """
        FD-FMNIST: the Frechet distance between Gaussians fitted to the 128-d penultimate features of a
        Fashion-MNIST classifier (FashionClassifier, trained with SharpVision's cross-entropy) for generated
        images (32x32 centre-cropped to 28x28) and the real test images. It is NOT Inception FID; compare it
        only with FD-FMNIST from the same classifier and sample counts. The real-vs-real line (two halves of
        the test images) shows the floor that finite samples set.
        """;

    static readonly Option<string> Classifier = Opt.Text("--classifier", "DIR",
        "load the classifier from DIR, or train it and save it there (default: train, save in OUT/classifier)");
    static readonly Option<int> Samples = Opt.Int("--samples", "generated images per sampler setting", 500, min: 2);
    static readonly Option<string> Solvers = Opt.Text("--solvers", "NAMES",
        "further samplers on the model's trained schedule, by preset (euler, heun, dpm++2m, dpm++2m-karras, " +
        "unipc, deis, ...; see diffusion sample --help) or class name");
    static readonly Option<int[]> Calls = Opt.PositiveInts("--calls",
        "their budgets in model evaluations (default 5,10,20,50; Heun and KDPM2 make two per step, so they " +
        "run fewer steps)", [5, 10, 20, 50]);
    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "evaluation.md, evaluation.csv, samples.png (one column per setting, in table order), fd-vs-calls.png " +
        "(FD against model calls, one line per sampler) and inversion.png (rows: inputs, latents, " +
        "reconstructions); default evaluation", "evaluation");
    static readonly Option<int> DdpmSteps = Opt.Int("--ddpm-steps", "DDPM steps of the ancestral-sampling line (0: none)", 1000, min: 0);
    static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 100, min: 1);
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0, min: 0);
    static readonly Option<double> Guidance = Opt.Double("--guidance", "classifier-free guidance scale (1: no guidance)", 1.0, min: -100, max: 100, metavar: "S");
    static readonly Option<int> Invert = Opt.Int("--invert", "test images for the DDIM inversion round trip (0: none)", 16, min: 0);
    static readonly Option<int> InvertSteps = Opt.Int("--invert-steps", "DDIM steps each way of the inversion", 50, min: 1);
    static readonly Option<int> ClassifierImages = Opt.Int("--classifier-images",
        "images the FD-FMNIST classifier trains on when it is not found", 32_000, min: 64);
    static readonly Option<int[]> Steps = Opt.PositiveInts("--steps", "DDIM step counts", [10, 20, 50, 100]);
    public IEnumerable<Symbol> Symbols => [DiffusionCommon.Model, DiffusionCommon.Scheduler, Classifier, Samples, Steps, DdpmSteps, Batch, Seed, Guidance, Invert, InvertSteps, ClassifierImages, Solvers, Calls, Common.Data, Out];

    public int Run(ParseResult args)
    {
        using var unet = DiffusionCommon.LoadModel(args);
        var schedulerPath = DiffusionCommon.SchedulerPath(args);
        var options = new EvaluationOptions(
            Samples: args.GetValue(Samples),
            DdimSteps: args.GetValue(Steps)!,
            DdpmSteps: args.GetValue(DdpmSteps),
            BatchSize: args.GetValue(Batch),
            Seed: args.GetValue(Seed),
            GuidanceScale: args.GetValue(Guidance),
            InversionImages: args.GetValue(Invert),
            InversionSteps: args.GetValue(InvertSteps),
            Solvers: args.GetValue(Solvers) is { } solvers ? solvers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null,
            SolverCalls: args.GetValue(Calls)!);
        foreach (var solver in options.Solvers ?? []) SchedulerPresets.Resolve(solver); // fail before any work
        int classifierImages = args.GetValue(ClassifierImages);
        var outDir = args.GetValue(Out)!;
        var classifierDir = args.GetValue(Classifier) ?? Path.Combine(outDir, "classifier");
        var (train, test, description) = Common.FashionMnistSplits(args);
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
        foreach (var l in DiffusionEvaluationFiles.Findings(report, options)) AnsiConsole.WriteLine(l);
        var files = DiffusionEvaluationFiles.Write(report, accuracy, options, outDir, inversionInputs);
        AnsiConsole.WriteLine($"Wrote {files.Markdown}, {Path.GetFileName(files.Csv)}, {Path.GetFileName(files.Samples)} (columns in table order), {Path.GetFileName(files.BudgetChart)}"
            + (files.Inversion is null ? "" : $" and {Path.GetFileName(files.Inversion)}"));
    }
}
