using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Diffusion;
using SharpVision.Nn.Training;
using Spectre.Console;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision controlnet train</c>: trains an edge ControlNet on a locked Fashion-MNIST UNet.</summary>
public sealed class ControlNetTrainCommand : ICommand, IHasFlags
{
    public string Name => "controlnet train";
    public string Summary => "Train an edge-map ControlNet on a locked Fashion-MNIST UNet (checkpoints, --resume)";
    public IEnumerable<string> Flags => ["resume"];
    public string Usage => """
        sharpvision controlnet train --base DIR [--scheduler DIR] [--out DIR] [--steps 2000] [--batch 64] [--lr 1e-4]
                                     [--warmup 100] [--checkpoint-every 500] [--seed 0] [--stages 16]
                                     [--threshold 1.0] [--resume] [--data DIR] [--limit N]

          --base DIR         the trained UNet2DModel (diffusers folder, e.g. a diffusion run's ema/); locked: eval
                             mode, no gradients, weights never written
          --scheduler DIR    its training schedule (default: the scheduler/ folder beside --base)
          Condition: Sobel edges of the (32x32, [-1, 1]) training image, magnitude > --threshold on [0, 1]
          intensities; class-conditional base models always get the true class.
          --stages LIST      conditioning-embedding widths; one stage: condition at the sample's size, n stages: 2^(n-1)x
          --out DIR          checkpoints in DIR/checkpoints/checkpoint-N (controlnet/, scheduler/, optimizer.bin,
                             trainer_state.json with the base model's path), then DIR/controlnet, DIR/scheduler, loss.png
          --resume           continue from the newest complete checkpoint with its stored options (--base defaults to
                             the stored path, --lr replaces the learning rate)
          --data DIR         full Fashion-MNIST IDX files (default: the first 8,000 images of the embedded test split)
          --limit N          train on the first N images only
        """;

    public int Run(Arguments args)
    {
        var outDir = args.Option("out") ?? "controlnet-run";
        var checkpoints = Path.Combine(outDir, "checkpoints");
        bool resume = args.Flag("resume");
        long steps = args.Int("steps", 2000, min: 1);
        var options = new ControlNetTrainingOptions(
            BatchSize: args.Int("batch", 64, min: 1),
            LearningRate: args.Double("lr", 1e-4, min: 1e-12),
            WarmupSteps: args.Int("warmup", 100, min: 0),
            Seed: args.Int("seed", 0, min: 0),
            CheckpointEvery: args.Int("checkpoint-every", 500, min: 0),
            EdgeThreshold: args.Double("threshold", EdgeMaps.DefaultThreshold, min: 1e-6),
            ConditioningStages: Common.PositiveInts(args, "stages", [16]));
        var basePath = args.Option("base") ?? (resume ? ControlNetTrainer.StoredBaseModelPath(checkpoints) : null)
            ?? throw new UsageException("--base is required");
        using var unet = ControlNetCommon.LoadBase(basePath);
        var schedulerPath = ControlNetCommon.SchedulerPath(args, basePath);
        int? limit = args.Option("limit") is null ? null : args.Int("limit", 0, min: 1);
        var (train, _, description) = Common.FashionMnistSplits(args);
        args.RejectUnknown();
        if (limit is int l) train = train.Slice(0, Math.Min(l, train.Count));
        int size = unet.Config.SampleSize is [int s, ..] ? s : FashionMnistDiffusionData.PaddedSize;

        using var folderLock = OutputFolderLock.Acquire(outDir);
        using var images = FashionMnistDiffusionData.ToModelRange(train, size); // (N, 1, size, size)
        using var labels = train.LabelsTensor(); // (N)
        bool conditional = unet.class_embedding is not null;
        ControlNetTrainer trainer;
        if (resume)
        {
            var latest = ControlNetTrainer.LatestCheckpoint(checkpoints) ?? throw new UsageException($"--resume: no complete checkpoint under {checkpoints}");
            trainer = ControlNetTrainer.Resume(checkpoints, unet, basePath, images, conditional ? labels : null,
                args.Option("lr") is null ? null : options.LearningRate);
            AnsiConsole.WriteLine($"Resuming from {latest} (step {trainer.Step}) with its stored options");
        }
        else
            trainer = new ControlNetTrainer(unet, basePath, DDPMSchedulerConfig.Load(schedulerPath), options, images, conditional ? labels : null);
        using (trainer)
        {
            if (trainer.Step >= steps) throw new UsageException($"--steps {steps}: the checkpoint is already at step {trainer.Step}");
            long parameters = trainer.ControlNet.parameters().Sum(p => p.numel());
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Training a {parameters:N0}-parameter ControlNet (conditioning stages [{string.Join(", ", trainer.Options.Stages)}], edge threshold {trainer.Options.EdgeThreshold}) " +
                $"on the locked UNet {basePath} ({(conditional ? "class-conditional, true classes" : "unconditional")}) with {description}" +
                $"{(limit is null ? "" : $", first {train.Count}")}; batch {trainer.Options.BatchSize}, AdamW lr {trainer.Options.LearningRate} (warm-up {trainer.Options.WarmupSteps})"));

            var losses = DiffusionCommon.TrainWithProgress(steps - trainer.Step, trainer.Options.BatchSize, report => trainer.Train(steps, checkpoints, report));

            trainer.ControlNet.SavePretrained(Path.Combine(outDir, "controlnet"));
            trainer.Scheduler.Config.Save(Path.Combine(outDir, "scheduler", "scheduler_config.json"));
            double tail = DiffusionCommon.WriteLossChart(outDir, "ControlNet training loss", losses);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Done at step {trainer.Step}; mean loss of the last 10% of steps {tail:F4}. Wrote {outDir}/controlnet, {outDir}/scheduler and {checkpoints}"));
            AnsiConsole.WriteLine($"Evaluate with: sharpvision controlnet evaluate --base {basePath} --scheduler {outDir}/scheduler --controlnet {outDir}/controlnet");
        }
        return 0;
    }
}
