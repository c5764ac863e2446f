using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Diffusion;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Training;
using Spectre.Console;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision diffusion train</c>: trains a UNet2DModel on Fashion-MNIST with checkpoints and resume.</summary>
public sealed class DiffusionTrainCommand : ICommand, IHasFlags
{
    public string Name => "diffusion train";
    public string Summary => "Train a DDPM UNet on Fashion-MNIST (EMA, warm-up, class conditioning, checkpoints, --resume)";
    public IEnumerable<string> Flags => ["conditional", "resume"];
    public string Usage => """
        sharpvision diffusion train [--out DIR] [--steps 5000] [--batch 64] [--lr 2e-4] [--warmup 200]
                                    [--objective epsilon|v_prediction] [--conditional] [--label-dropout 0.1]
                                    [--ema 0.999] [--channels 32,64,64] [--layers 1] [--timesteps 1000]
                                    [--checkpoint-every 500] [--sample-every 500] [--sample-steps 50] [--seed 0]
                                    [--resume] [--data DIR] [--limit N]

          Images: Fashion-MNIST 28x28 padded to 32x32 with background -1, pixels scaled to [-1, 1].
          --data DIR         full Fashion-MNIST IDX files (default: the first 8,000 images of the embedded test split)
          --conditional      class-conditional model: num_class_embeds = 11 (classes 0-9, null class 10), labels
                             dropped to the null class with probability --label-dropout (classifier-free guidance)
          --channels LIST    UNet width per level (resolution halves between levels; attention at the lowest)
          --out DIR          checkpoints in DIR/checkpoints/checkpoint-N (model/, ema/, scheduler/ in diffusers'
                             format, optimizer.bin, trainer_state.json), grids in DIR/samples, and at the end the
                             final DIR/model, DIR/ema and DIR/scheduler folders
          --resume           continue from the newest complete checkpoint with its stored options (--steps may
                             raise the target, --lr replaces the learning rate); a killed run loses at most the
                             steps since that checkpoint
          --limit N          train on the first N images only
        """;

    public int Run(Arguments args)
    {
        var outDir = args.Option("out") ?? "diffusion-run";
        var checkpoints = Path.Combine(outDir, "checkpoints");
        bool resume = args.Flag("resume");
        long steps = args.Int("steps", 5000, min: 1);
        var options = new DiffusionTrainingOptions(
            BatchSize: args.Int("batch", 64, min: 1),
            LearningRate: args.Double("lr", 2e-4, min: 1e-12),
            WarmupSteps: args.Int("warmup", 200, min: 0),
            EmaDecay: args.Double("ema", 0.999, min: 0, max: 1),
            LabelDropout: args.Double("label-dropout", 0.1, min: 0, max: 1),
            Seed: args.Int("seed", 0, min: 0),
            CheckpointEvery: args.Int("checkpoint-every", 500, min: 0),
            SampleEvery: args.Int("sample-every", 500, min: 0),
            SampleSteps: args.Int("sample-steps", 50, min: 1));
        var objective = DiffusionObjective.Parse(args.Option("objective") ?? "epsilon");
        bool conditional = args.Flag("conditional");
        var channels = Common.PositiveInts(args, "channels", [32, 64, 64]);
        int layers = args.Int("layers", 1, min: 1, max: 8);
        int timesteps = args.Int("timesteps", 1000, min: 2, max: 100_000);
        int? limit = args.Option("limit") is null ? null : args.Int("limit", 0, min: 1);
        var (train, _, description) = Common.FashionMnistSplits(args);
        args.RejectUnknown();
        if (limit is int l) train = train.Slice(0, Math.Min(l, train.Count));

        using var folderLock = OutputFolderLock.Acquire(outDir);
        using var images = FashionMnistDiffusionData.ToModelRange(train); // (N, 1, 32, 32)
        using var labels = train.LabelsTensor(); // (N)
        DiffusionTrainer trainer;
        if (resume)
        {
            var latest = DiffusionTrainer.LatestCheckpoint(checkpoints)
                ?? throw new UsageException($"--resume: no complete checkpoint under {checkpoints}");
            using (var probe = SharpVision.Diffusion.Models.UNet2DModel.FromPretrained(Path.Combine(latest, "model")))
                conditional = probe.class_embedding is not null;
            trainer = DiffusionTrainer.Resume(checkpoints, images, conditional ? labels : null, args.Option("lr") is null ? null : options.LearningRate);
            AnsiConsole.WriteLine($"Resuming from {latest} (step {trainer.Step}) with its stored options");
        }
        else
        {
            var modelConfig = FashionMnistDiffusionData.ModelConfig(channels, layers, conditional);
            var schedulerConfig = new DDPMSchedulerConfig { NumTrainTimesteps = timesteps, PredictionType = objective };
            trainer = new DiffusionTrainer(modelConfig, schedulerConfig, options, images, conditional ? labels : null);
        }
        using (trainer)
        {
            if (trainer.Step >= steps) throw new UsageException($"--steps {steps}: the checkpoint is already at step {trainer.Step}");
            long parameters = trainer.Model.parameters().Sum(p => p.numel());
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Training a {parameters:N0}-parameter UNet2DModel ({(conditional ? "class-conditional" : "unconditional")}, {SchedulerOptions.ToConfigString(trainer.Scheduler.Config.PredictionType)}) on {description}" +
                $"{(limit is null ? "" : $", first {train.Count}")}; batch {trainer.Options.BatchSize}, AdamW lr {trainer.Options.LearningRate} (warm-up {trainer.Options.WarmupSteps}), EMA {trainer.Options.EmaDecay}"));

            var samplesDir = Path.Combine(outDir, "samples");
            var losses = DiffusionCommon.TrainWithProgress(steps - trainer.Step, trainer.Options.BatchSize, report =>
                trainer.Train(steps, checkpoints, report, (step, grid) =>
                    Images.SaveGrid(grid, Path.Combine(samplesDir, $"step-{step:D8}.png"), columns: 10, low: -1, high: 1)));

            trainer.Model.SavePretrained(Path.Combine(outDir, "model"));
            trainer.Ema.SavePretrained(Path.Combine(outDir, "ema"));
            trainer.Scheduler.Config.Save(Path.Combine(outDir, "scheduler", "scheduler_config.json"));
            double tail = DiffusionCommon.WriteLossChart(outDir, "Diffusion training loss", losses);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Done at step {trainer.Step}; mean loss of the last 10% of steps {tail:F4}. Wrote {outDir}/model, {outDir}/ema, {outDir}/scheduler and {checkpoints}"));
            AnsiConsole.WriteLine($"Sample with: sharpvision diffusion sample --model {outDir}/ema --scheduler {outDir}/scheduler --out samples.png");
        }
        return 0;
    }
}
