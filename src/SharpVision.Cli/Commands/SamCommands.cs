using System.Diagnostics;
using System.CommandLine;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Experiments.Sam;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;
using SharpVision.Segmentation.Sam;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary>Defaults shared by <c>sam train</c> and <c>sam evaluate</c>.</summary>
static class SamDefaults
{
    /// <summary>Train images (and held-out images) as <see cref="Common.FashionMnistSplits(ParseResult, int)"/> chooses them.</summary>
    public static (LabeledImages Train, LabeledImages Test, string Description) Images(ParseResult args) => Common.FashionMnistSplits(args);

    public static readonly Option<int> ThreadsOption = Opt.Int("--threads",
        "libtorch threads (1 measured 10× faster than more on this small model)", 1, min: 1, metavar: "T");

    /// <summary>
    /// Applies <c>--threads</c> (default 1): on a small model, libtorch's OpenMP threads spin against each
    /// other and against other processes on a shared machine; one thread measured 10× faster here.
    /// </summary>
    public static void Threads(ParseResult args) => torch.set_num_threads(args.GetValue(ThreadsOption));

    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary><c>sharpvision sam train</c>: trains a small SAM on synthetic Fashion-MNIST scenes.</summary>
public sealed class SamTrainCommand : ICommand
{
    public string Name => "sam train";
    public string Summary => "Train a small Segment Anything on Fashion-MNIST scenes (SAM's prompts and losses), resumable";

    static readonly Option<string> Out = Opt.Required("--out", "DIR",
        "run folder: checkpoints in DIR/checkpoints/checkpoint-N (sam.pth in the official state_dict format, " +
        "optimizer.bin, sam_config.json, trainer_state.json), written atomically every --save-every steps and " +
        "at the end");
    static readonly Option<int> Steps = Opt.Int("--steps", "total optimiser steps; --minutes M stops earlier after M minutes", 300, min: 1);
    static readonly Option<int> Batch = Opt.Int("--batch", "scenes per step; every object of a scene gets a prompt", 4, min: 1, metavar: "B");
    static readonly Option<int> Rounds = Opt.Int("--rounds", "correction-click rounds after the first prompt", 1, min: 0, metavar: "R");
    static readonly Option<bool> DecoderOnly = Opt.Flag("--decoder-only",
        "freeze the image and prompt encoders, train only the mask decoder");
    static readonly Option<string> Init = Opt.Text("--init", "FILE", "start from these weights (e.g. a trained checkpoint to fine-tune)");
    static readonly Option<bool> Resume = Opt.Flag("--resume",
        "continue the run in --out from its newest complete checkpoint (weights, optimiser moments, step, " +
        "options; --lr replaces the stored learning rate when given)");
    static readonly Option<string> Config = Opt.Text("--config", "FILE",
        "model sizes (default: 64 px input, patch 8, ViT 64 wide x 2 blocks, prompt width 64)");
    static readonly Option<double> Minutes = Opt.Double("--minutes", "stop after M minutes even before --steps", double.PositiveInfinity, min: 0, metavar: "M");
    static readonly Option<double> Lr = Opt.Double("--lr", "learning rate", 1e-3, min: 0);
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0);
    static readonly Option<int> SaveEvery = Opt.Int("--save-every", "checkpoint every N steps", 100, min: 1);
    public IEnumerable<Symbol> Symbols => [Out, Steps, Minutes, Batch, Lr, Rounds, DecoderOnly, Init, Resume, Config, Common.Data, Seed, SaveEvery, SamDefaults.ThreadsOption];

    public int Run(ParseResult args)
    {
        var outDir = args.GetValue(Out)!;
        int steps = args.GetValue(Steps);
        double minutes = args.GetValue(Minutes);
        int batch = args.GetValue(Batch);
        double lr = args.GetValue(Lr);
        int rounds = args.GetValue(Rounds);
        bool decoderOnly = args.GetValue(DecoderOnly);
        bool resume = args.GetValue(Resume);
        var init = args.GetValue(Init);
        var configPath = args.GetValue(Config);
        int seed = args.GetValue(Seed);
        int saveEvery = args.GetValue(SaveEvery);
        SamDefaults.Threads(args);
        var (train, _, description) = SamDefaults.Images(args);

        using var folderLock = OutputFolderLock.Acquire(outDir);
        var checkpoints = Path.Combine(outDir, "checkpoints");
        SamTrainer trainer;
        if (resume)
        {
            var latest = SamTrainer.LatestCheckpoint(checkpoints)
                ?? throw new UsageException($"--resume: no complete checkpoint (checkpoint-*/trainer_state.json and checkpoint-complete) under {checkpoints}");
            trainer = SamTrainer.Resume(latest, train, !args.Given(Lr) ? null : lr);
            args.Out.WriteLine($"resumed {latest} at step {trainer.Step}");
        }
        else
        {
            var config = configPath is not null ? SamConfig.Load(configPath) : SamTrainingOptions.DefaultModel;
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
                if (trainer.Step % saveEvery == 0) trainer.SaveCheckpoint(checkpoints);
            }
            task.StopTask();
            return result;
        });
        var checkpoint = trainer.SaveCheckpoint(checkpoints);
        args.Out.WriteLine(SamDefaults.Inv($"step {trainer.Step}: loss {last?.Loss:F4} (mask {last?.MaskLoss:F4}, IoU-MSE {last?.IouLoss:F4}), first-prompt IoU {last?.FirstRoundIou:F3}; {clock.Elapsed.TotalSeconds:F0} s"));
        args.Out.WriteLine($"checkpoint: {checkpoint}");
        return 0;
    }
}

/// <summary><c>sharpvision sam evaluate</c>: scores a SAM checkpoint on held-out scenes.</summary>
public sealed class SamEvaluateCommand : ICommand
{
    public string Name => "sam evaluate";
    public string Summary => "Score a SAM checkpoint on held-out Fashion-MNIST scenes: IoU per prompt type, IoU-head calibration";

    static readonly Option<string> Checkpoint = Opt.Required("--checkpoint", "DIR|FILE",
        "a `sam train` run folder (its newest checkpoint) or checkpoint folder, or a state_dict file (then " +
        "--config gives its sizes)");
    static readonly Option<int> Scenes = Opt.Int("--scenes",
        "held-out scenes, built from the held-out images with scene seed S (default 1001)", 200, min: 1);
    static readonly Option<string> Report = Opt.Text("--report", "FILE", "also write the Markdown table there");
    static readonly Option<string> Examples = Opt.Text("--examples", "FILE",
        "PNG: rows of scenes; columns image, ground truth, 1 point, 1 box, 1 point + 2 clicks");
    static readonly Option<string> Config = Opt.Text("--config", "FILE",
        "sam_config.json for a state_dict file (default: the training recipe's model)");
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 1001);
    public IEnumerable<Symbol> Symbols => [Checkpoint, Config, Scenes, Seed, Report, Examples, Common.Data, SamDefaults.ThreadsOption];

    public int Run(ParseResult args)
    {
        var checkpoint = args.GetValue(Checkpoint)!;
        var configPath = args.GetValue(Config);
        int count = args.GetValue(Scenes);
        int seed = args.GetValue(Seed);
        var report = args.GetValue(Report);
        var examplesPath = args.GetValue(Examples);
        SamDefaults.Threads(args);
        var (_, test, description) = SamDefaults.Images(args);

        SamConfig config;
        string modelPath;
        if (Directory.Exists(checkpoint)) (config, modelPath, _) = SamTrainer.ReadCheckpoint(checkpoint);
        else
        {
            if (!File.Exists(checkpoint)) throw new FileNotFoundException($"no such checkpoint: {checkpoint}", checkpoint);
            config = configPath is not null ? SamConfig.Load(configPath) : SamTrainingOptions.DefaultModel;
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
