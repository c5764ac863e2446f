using System.Diagnostics;
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

          --out DIR        run folder: checkpoints in DIR/checkpoints/checkpoint-N (sam.pth in the official state_dict
                           format, optimizer.bin, sam_config.json, trainer_state.json), written atomically every
                           --save-every steps and at the end
          --steps N        total optimiser steps (default 300); --minutes M stops earlier after M minutes
          --batch B        scenes per step (default 4); every object of a scene gets a prompt
          --rounds R       correction-click rounds after the first prompt (default 1)
          --decoder-only   freeze the image and prompt encoders, train only the mask decoder
          --init FILE      start from these weights (e.g. a trained checkpoint to fine-tune)
          --resume         continue the run in --out from its newest complete checkpoint (weights, optimiser moments,
                           step, options; --lr replaces the stored learning rate when given)
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

        using var folderLock = OutputFolderLock.Acquire(outDir);
        var checkpoints = Path.Combine(outDir, "checkpoints");
        SamTrainer trainer;
        if (resume)
        {
            var latest = SamTrainer.LatestCheckpoint(checkpoints)
                ?? throw new UsageException($"--resume: no complete checkpoint (checkpoint-*/trainer_state.json and checkpoint-complete) under {checkpoints}");
            trainer = SamTrainer.Resume(latest, train, args.Option("lr") is null ? null : lr);
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
    public string Usage => """
        sharpvision sam evaluate --checkpoint DIR|FILE [--config sam_config.json] [--scenes N] [--seed S]
                                 [--report table.md] [--examples examples.png] [--data DIR] [--threads T]

          --checkpoint     a `sam train` run folder (its newest checkpoint) or checkpoint folder, or a state_dict file
                           (then --config gives its sizes)
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
