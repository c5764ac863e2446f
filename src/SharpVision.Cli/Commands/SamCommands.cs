using System.Diagnostics;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Nn.Data;
using SharpVision.Segmentation.Data;
using SharpVision.Segmentation.Sam;
using SharpVision.Nn.Training;
using SharpVision.Segmentation.Training;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary>Defaults shared by <c>sam train</c> and <c>sam evaluate</c>.</summary>
static class SamDefaults
{
    /// <summary>
    /// A SAM small enough to train on two CPU cores: 64×64 input, 8×8 patches (an 8×8 embedding grid),
    /// a 2-block ViT of width 64 (4 heads, windows of 4, block 1 global), prompt/decoder width 64.
    /// </summary>
    public static readonly SamConfig Config = new()
    {
        ImageSize = 64, PatchSize = 8, EncoderEmbedDim = 64, EncoderDepth = 2, EncoderNumHeads = 4, EncoderGlobalAttnIndexes = [1],
        WindowSize = 4, PromptEmbedDim = 64, MaskInChans = 16, DecoderMlpDim = 256, DecoderNumHeads = 4, IouHeadHiddenDim = 64,
    };

    /// <summary>Train images (and held-out images) as <see cref="Common.FashionMnistSplits"/> chooses them.</summary>
    public static (LabeledImages Train, LabeledImages Test, string Description) Images(Arguments args) => Common.FashionMnistSplits(args);

    /// <summary>
    /// Applies <c>--threads</c> (default 1): on a small model, libtorch's OpenMP threads spin against each
    /// other and against other processes on a shared machine; one thread measured 10× faster here.
    /// </summary>
    public static void Threads(Arguments args) => torch.set_num_threads(args.Int("threads", 1, min: 1));

    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary><c>sharpvision sam train</c>: trains a small SAM on synthetic Fashion-MNIST scenes.</summary>
public sealed class SamTrainCommand : ICommand, IHasFlags
{
    public string Name => "sam train";
    public string Summary => "Train a small Segment Anything on Fashion-MNIST scenes (SAM's prompts and losses), resumable";
    public string Usage => """
        sharpvision sam train --out DIR [--steps N] [--minutes M] [--batch B] [--lr LR] [--rounds R]
                              [--decoder-only] [--init FILE] [--resume] [--config sam_config.json]
                              [--data DIR] [--seed S] [--save-every N] [--threads T]

          --out DIR        checkpoint directory: sam_stepN.pth (official state_dict format), optimizer_stepN.pth,
                           sam_config.json and train_state.json (written atomically every --save-every steps and at the end)
          --steps N        total optimiser steps (default 300); --minutes M stops earlier after M minutes
          --batch B        scenes per step (default 4); every object of a scene gets a prompt
          --rounds R       correction-click rounds after the first prompt (default 1)
          --decoder-only   freeze the image and prompt encoders, train only the mask decoder
          --init FILE      start from these weights (e.g. a trained checkpoint to fine-tune)
          --resume         continue the run in --out (weights, optimiser moments, step, options)
          --config FILE    model sizes (default: 64 px input, patch 8, ViT 64 wide x 2 blocks, prompt width 64)
          --data DIR       full Fashion-MNIST IDX files; default: the embedded test split's first 8,000 images
          --threads T      libtorch threads (default 1: faster for this model size on a shared machine)
        """;

    public IEnumerable<string> Flags => ["decoder-only", "resume"];

    public int Run(Arguments args)
    {
        var outDir = args.Required("out");
        int steps = args.Int("steps", 300, min: 1);
        double minutes = args.Double("minutes", double.PositiveInfinity, min: 0);
        int batch = args.Int("batch", 4, min: 1);
        double lr = args.Double("lr", 1e-3, min: 0);
        int rounds = args.Int("rounds", 1, min: 0);
        bool decoderOnly = args.Flag("decoder-only");
        bool resume = args.Flag("resume");
        var init = args.Option("init");
        var configPath = args.Option("config");
        int seed = args.Int("seed", 0);
        int saveEvery = args.Int("save-every", 100, min: 1);
        SamDefaults.Threads(args);
        var (train, _, description) = SamDefaults.Images(args);
        args.RejectUnknown();

        SamTrainer trainer;
        if (resume)
        {
            if (SamTrainer.TryReadState(outDir) is null) throw new UsageException($"--resume: no train_state.json in {outDir}");
            trainer = SamTrainer.Resume(outDir, train);
            args.Out.WriteLine($"resumed {outDir} at step {trainer.Step}");
        }
        else
        {
            var config = configPath is not null ? SamConfig.Load(configPath) : SamDefaults.Config;
            var model = SamModel.Build(config);
            SeededInit.Apply(model, seed, redrawOthers: true);
            if (init is not null) model.LoadCheckpoint(init);
            var scenes = new FashionMnistScenes(train, new SceneOptions { CanvasSize = config.ImageSize, Seed = seed,
                MaxItemSize = Math.Min(40, config.ImageSize), MinItemSize = Math.Min(20, config.ImageSize) });
            trainer = new SamTrainer(model, scenes, new SamTrainingOptions
            {
                BatchScenes = batch, LearningRate = lr, CorrectionRounds = rounds, DecoderOnly = decoderOnly, Seed = seed,
            });
        }
        using var _ = trainer;
        using var __ = trainer.Model;
        var c = trainer.Model.Config;
        args.Out.WriteLine(SamDefaults.Inv($"data: {description}"));
        args.Out.WriteLine(SamDefaults.Inv($"model: image {c.ImageSize}, patch {c.PatchSize}, ViT {c.EncoderEmbedDim}x{c.EncoderDepth} ({c.EncoderNumHeads} heads, window {c.WindowSize}), prompt dim {c.PromptEmbedDim}; {trainer.Model.parameters().Sum(p => p.numel()):N0} parameters, {trainer.Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()):N0} trained"));
        if (trainer.Step >= steps) { args.Out.WriteLine($"already at step {trainer.Step} of {steps}"); return 0; }

        var clock = Stopwatch.StartNew();
        var last = ProgressDisplay.Run("scenes", ctx =>
        {
            var task = ctx.AddTask("training", maxValue: (double)(steps - trainer.Step) * trainer.Options.BatchScenes);
            SamStepResult? result = null;
            double smoothed = double.NaN;
            while (trainer.Step < steps && clock.Elapsed.TotalMinutes < minutes)
            {
                result = trainer.TrainStep();
                smoothed = double.IsNaN(smoothed) ? result.Loss : 0.95 * smoothed + 0.05 * result.Loss;
                task.Increment(trainer.Options.BatchScenes);
                task.Description = SamDefaults.Inv($"step {trainer.Step}/{steps} loss {smoothed:F3} IoU {result.FirstRoundIou:F2}");
                if (trainer.Step % saveEvery == 0) trainer.SaveCheckpoint(outDir);
            }
            task.StopTask();
            return result;
        });
        trainer.SaveCheckpoint(outDir);
        args.Out.WriteLine(SamDefaults.Inv($"step {trainer.Step}: loss {last?.Loss:F4} (mask {last?.MaskLoss:F4}, IoU-MSE {last?.IouLoss:F4}), first-prompt IoU {last?.FirstRoundIou:F3}; {clock.Elapsed.TotalSeconds:F0} s"));
        args.Out.WriteLine($"checkpoint: {outDir}");
        return 0;
    }
}

/// <summary><c>sharpvision sam evaluate</c>: scores a SAM checkpoint on held-out scenes.</summary>
public sealed class SamEvaluateCommand : ICommand
{
    public string Name => "sam evaluate";
    public string Summary => "Score a SAM checkpoint on held-out Fashion-MNIST scenes: IoU per prompt type, IoU-head calibration";
    public string Usage => """
        sharpvision sam evaluate --checkpoint DIR|FILE [--config sam_config.json] [--scenes N] [--seed S]
                                 [--report table.md] [--examples examples.png] [--data DIR] [--threads T]

          --checkpoint     a `sam train` directory, or a state_dict file (then --config gives its sizes)
          --scenes N       held-out scenes (default 200), built from the held-out images with scene seed S (default 1001)
          --report FILE    also write the Markdown table there
          --examples FILE  PNG: rows of scenes; columns image, ground truth, 1 point, 1 box, 1 point + 2 clicks
        """;

    public int Run(Arguments args)
    {
        var checkpoint = args.Required("checkpoint");
        var configPath = args.Option("config");
        int count = args.Int("scenes", 200, min: 1);
        int seed = args.Int("seed", 1001);
        var report = args.Option("report");
        var examplesPath = args.Option("examples");
        SamDefaults.Threads(args);
        var (_, test, description) = SamDefaults.Images(args);
        args.RejectUnknown();

        SamConfig config;
        string modelPath;
        if (Directory.Exists(checkpoint)) (config, modelPath, _) = SamTrainer.ReadCheckpoint(checkpoint);
        else
        {
            if (!File.Exists(checkpoint)) throw new FileNotFoundException($"no such checkpoint: {checkpoint}", checkpoint);
            config = configPath is not null ? SamConfig.Load(configPath) : SamDefaults.Config;
            modelPath = checkpoint;
        }
        using var model = SamModel.FromCheckpoint(modelPath, config);
        var scenes = new FashionMnistScenes(test, new SceneOptions { CanvasSize = config.ImageSize, Seed = seed,
            MaxItemSize = Math.Min(40, config.ImageSize), MinItemSize = Math.Min(20, config.ImageSize) });
        const int exampleRows = 4;
        var evaluation = ProgressDisplay.Run("scenes", ctx =>
        {
            var task = ctx.AddTask("evaluating", maxValue: count);
            var e = SamEvaluator.Evaluate(model, scenes, count, promptSeed: seed, exampleScenes: examplesPath is null ? 0 : exampleRows,
                progress: done => task.Value = done);
            task.StopTask();
            return e;
        });
        args.Out.WriteLine($"held-out: {count} scenes, {evaluation.Objects} objects ({description}, scene seed {seed})");
        var table = evaluation.ToMarkdown();
        args.Out.Write(table);
        if (report is not null) { Nn.Checkpoints.AtomicFile.WriteAllText(report, table); args.Out.WriteLine($"wrote {report}"); }
        if (examplesPath is not null)
        {
            var rows = Enumerable.Range(0, Math.Min(exampleRows, count)).Select(i => scenes.Generate(i)).ToList();
            SamExamplePicture.Save(rows, evaluation.Examples, examplesPath);
            args.Out.WriteLine($"wrote {examplesPath}");
        }
        return 0;
    }
}

/// <summary>Draws evaluation examples: per scene the image, the ground truth and each setting's masks with their prompts.</summary>
static class SamExamplePicture
{
    const int Scale = 4, Gap = 4;
    static readonly (byte R, byte G, byte B)[] Palette = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240)];

    public static void Save(IReadOnlyList<SegmentationScene> scenes, IReadOnlyList<SamExample> examples, string path)
    {
        int s = scenes[0].Size, panel = s * Scale, columns = 2 + Enum.GetValues<PromptSetting>().Length;
        int width = columns * panel + (columns - 1) * Gap, height = scenes.Count * panel + (scenes.Count - 1) * Gap;
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, (byte)255);
        for (int r = 0; r < scenes.Count; r++)
        {
            var scene = scenes[r];
            int y0 = r * (panel + Gap);
            Panel(rgb, width, 0, y0, scene, null);
            Panel(rgb, width, panel + Gap, y0, scene, scene.Objects.Select(o => o.Mask).ToList());
            foreach (var setting in Enum.GetValues<PromptSetting>())
            {
                int x0 = (2 + (int)setting) * (panel + Gap);
                var mine = examples.Where(e => e.SceneIndex == r && e.Setting == setting).OrderBy(e => e.ObjectIndex).ToList();
                Panel(rgb, width, x0, y0, scene, mine.Select(e => e.Predicted).ToList());
                foreach (var e in mine)
                {
                    var color = Palette[e.ObjectIndex % Palette.Length];
                    if (e.Box is { } b) Rect(rgb, width, x0, y0, b, ((byte)255, (byte)255, (byte)0));
                    foreach (var p in e.Points)
                        Dot(rgb, width, (x0, y0, panel), x0 + p.X * Scale + Scale / 2, y0 + p.Y * Scale + Scale / 2,
                            p.Label == 1 ? ((byte)0, (byte)255, (byte)0) : ((byte)255, (byte)0, (byte)0), color);
                }
            }
        }
        Images.SaveRgb(rgb, height, width, path);
    }

    static void Panel(byte[] rgb, int width, int x0, int y0, SegmentationScene scene, IReadOnlyList<bool[]>? masks)
    {
        int s = scene.Size;
        for (int y = 0; y < s * Scale; y++)
            for (int x = 0; x < s * Scale; x++)
            {
                int p = (y / Scale) * s + x / Scale, at = ((y0 + y) * width + x0 + x) * 3;
                (int r, int g, int b) = (scene.Rgb[3 * p], scene.Rgb[3 * p + 1], scene.Rgb[3 * p + 2]);
                if (masks is not null)
                {
                    // Grey image with each object's mask tinted in its own colour.
                    int grey = scene.Intensity[p] / 2;
                    (r, g, b) = (grey, grey, grey);
                    for (int k = 0; k < masks.Count; k++)
                        if (masks[k][p]) { var c = Palette[k % Palette.Length]; (r, g, b) = ((r + c.R) / 2 + 40, (g + c.G) / 2 + 40, (b + c.B) / 2 + 40); }
                }
                rgb[at] = (byte)Math.Min(255, r); rgb[at + 1] = (byte)Math.Min(255, g); rgb[at + 2] = (byte)Math.Min(255, b);
            }
    }

    static void Set(byte[] rgb, int width, int x, int y, (byte R, byte G, byte B) c)
    {
        int height = rgb.Length / 3 / width;
        if (x < 0 || y < 0 || x >= width || y >= height) return;
        int at = (y * width + x) * 3;
        (rgb[at], rgb[at + 1], rgb[at + 2]) = c;
    }

    /// <summary>A click: filled by its label's colour, ringed in its object's; clipped to its panel.</summary>
    static void Dot(byte[] rgb, int width, (int X0, int Y0, int Side) clip, int cx, int cy, (byte, byte, byte) fill, (byte, byte, byte) ring)
    {
        for (int dy = -4; dy <= 4; dy++)
            for (int dx = -4; dx <= 4; dx++)
            {
                int x = cx + dx, y = cy + dy;
                if (x < clip.X0 || y < clip.Y0 || x >= clip.X0 + clip.Side || y >= clip.Y0 + clip.Side) continue;
                int d = dx * dx + dy * dy;
                if (d <= 6) Set(rgb, width, cx + dx, cy + dy, fill);
                else if (d <= 16) Set(rgb, width, cx + dx, cy + dy, ring);
            }
    }

    static void Rect(byte[] rgb, int width, int x0, int y0, PixelBox b, (byte, byte, byte) c)
    {
        int l = x0 + (int)(b.X0 * Scale), r = x0 + (int)((b.X1 + 1) * Scale) - 1, t = y0 + (int)(b.Y0 * Scale), bt = y0 + (int)((b.Y1 + 1) * Scale) - 1;
        for (int x = l; x <= r; x++) { Set(rgb, width, x, t, c); Set(rgb, width, x, bt, c); }
        for (int y = t; y <= bt; y++) { Set(rgb, width, l, y, c); Set(rgb, width, r, y, c); }
    }
}
