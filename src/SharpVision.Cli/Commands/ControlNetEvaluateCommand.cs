using System.CommandLine;
using System.Globalization;
using System.Text;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Experiments.ControlNet;
using SharpVision.Experiments.Diffusion;
using SharpVision.Nn.Checkpoints;
using Spectre.Console;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision controlnet evaluate</c>: control adherence (edge IoU / F1) and FD-FMNIST, base alone vs ControlNet scales.</summary>
public sealed class ControlNetEvaluateCommand : ICommand
{
    public string Name => "controlnet evaluate";
    public string Summary => "Edge ControlNet adherence (edge IoU/F1 vs the condition) and FD-FMNIST: base alone vs scales";
    public string Notes => """
        Conditions: the Sobel edge maps of the first --samples test images. Each setting (the base model alone,
        then the ControlNet at each scale) generates one image per condition with DDIM (eta 0) from the same
        noise, with the test image's class for a class-conditional base model. Adherence: edge IoU (exact
        pixels) and edge F1 (edges within --tolerance pixels count) between the generated image's edges and the
        condition. FD-FMNIST (NOT Inception FID) of the generated images against the real test images.
        """;

    static readonly Option<string> Classifier = Opt.Text("--classifier", "DIR",
        "load the FD-FMNIST classifier from DIR, or train it and save it there (default: OUT/classifier)");
    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "adherence.md, adherence.csv, grid.png (rows: test image, condition, base sample, controlled samples " +
        "at each scale); default controlnet-evaluation", "controlnet-evaluation");
    static readonly Option<string> Base = Opt.Required("--base", "DIR", "the locked base UNet2DModel folder (e.g. a diffusion run's ema/)");
    static readonly Option<string> Scales = Opt.Text("--scales", "LIST", "conditioning scales, comma-separated (default 0.5,1,1.5)");
    static readonly Option<int> Samples = Opt.Int("--samples", "conditions: the edge maps of the first N test images", 500, min: 2);
    static readonly Option<int> Steps = Opt.Int("--steps", "DDIM steps", 50, min: 1);
    static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 50, min: 1);
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0, min: 0);
    static readonly Option<int> Tolerance = Opt.Int("--tolerance", "edge F1 counts edges within this many pixels", 1, min: 0, max: 8);
    static readonly Option<int> ClassifierImages = Opt.Int("--classifier-images",
        "images the FD-FMNIST classifier trains on when it is not found", 32_000, min: 64);
    public IEnumerable<Symbol> Symbols => [Base, ControlNetCommon.ControlNet, ControlNetCommon.Scheduler, Samples, Scales, Steps, Batch, Seed, Tolerance, Classifier, ClassifierImages, Common.Data, Out];

    public int Run(ParseResult args)
    {
        var basePath = args.GetValue(Base)!;
        using var unet = ControlNetCommon.LoadBase(basePath);
        using var net = ControlNetCommon.LoadControlNet(args, unet);
        var schedulerPath = ControlNetCommon.SchedulerPath(args, basePath);
        var scalesText = args.GetValue(Scales);
        double[]? scales = scalesText?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
                ? v : throw new UsageException($"--scales must list positive numbers; got '{scalesText}'")).ToArray();
        if (scales is { Length: 0 }) throw new UsageException("--scales must list at least one positive number");
        var options = new ControlNetEvaluationOptions(
            Samples: args.GetValue(Samples),
            Steps: args.GetValue(Steps),
            Scales: scales,
            BatchSize: args.GetValue(Batch),
            Seed: args.GetValue(Seed),
            Tolerance: args.GetValue(Tolerance));
        int classifierImages = args.GetValue(ClassifierImages);
        var outDir = args.GetValue(Out)!;
        var classifierDir = args.GetValue(Classifier) ?? Path.Combine(outDir, "classifier");
        var (train, test, description) = Common.FashionMnistSplits(args);
        if (test.Count < options.Samples) throw new UsageException($"--samples {options.Samples}: the test split has only {test.Count} images");

        using var classifier = DiffusionCommon.LoadOrTrainClassifier(classifierDir, train, test, classifierImages, description);
        using var scope = torch.NewDisposeScope();
        int size = unet.Config.SampleSize is [int s, ..] ? s : FashionMnistDiffusionData.PaddedSize;
        var subset = test.Slice(0, options.Samples);
        var testImages = FashionMnistDiffusionData.ToModelRange(subset, size); // (S, 1, size, size)
        long[]? labels = ClassifierFreeGuidance.NullClass(unet) is not null ? subset.Labels.Select(b => (long)b).ToArray() : null;
        var report = ProgressDisplay.Run("img", ctx =>
        {
            var tasks = new Dictionary<string, ProgressTask>();
            return ControlNetEvaluation.Run(unet, net, schedulerPath, testImages, labels, classifier, test.ImagesTensor(), options, (name, done) =>
            {
                if (!tasks.TryGetValue(name, out var task)) tasks[name] = task = ctx.AddTask(Markup.Escape(name), maxValue: options.Samples);
                task.Value = done;
            });
        });
        Write(report, options, classifier.TestAccuracy, outDir);
        return 0;
    }

    static void Write(ControlNetEvaluationReport report, ControlNetEvaluationOptions options, double accuracy, string outDir)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title($"Edge control adherence, {options.Samples} conditions, DDIM {options.Steps} steps")
            .AddColumn("setting").AddColumn(new TableColumn("edge IoU").RightAligned()).AddColumn(new TableColumn($"edge F1 (±{options.Tolerance} px)").RightAligned())
            .AddColumn(new TableColumn("FD-FMNIST").RightAligned()).AddColumn(new TableColumn("ms / sample").RightAligned());
        foreach (var r in report.Rows)
            table.AddRow(r.Setting, r.EdgeIou.ToString("F4", inv), r.EdgeF1.ToString("F4", inv), r.FdFmnist is double v ? v.ToString("F3", inv) : "",
                (r.SecondsPerSample * 1000).ToString("F1", inv));
        AnsiConsole.Write(table);
        var files = ControlNetEvaluationFiles.Write(report, options, accuracy, outDir);
        AnsiConsole.WriteLine($"Wrote {files.Markdown}, {Path.GetFileName(files.Csv)} and {Path.GetFileName(files.Grid)} (rows: test image, condition, " +
            string.Join(", ", report.Rows.Select(r => r.Setting)) + ")");
    }
}
