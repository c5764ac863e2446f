using System.CommandLine;
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
public sealed class ControlNetTrainCommand : ICommand
{
    public string Name => "controlnet train";
    public string Summary => "Train an edge-map ControlNet on a locked Fashion-MNIST UNet (checkpoints, --resume)";
    public string Notes => """
        Condition: Sobel edges of the (32x32, [-1, 1]) training image, magnitude > --threshold on [0, 1]
        intensities; class-conditional base models always get the true class.
        """;

    static readonly Option<string> Base = Opt.Text("--base", "DIR",
        "the trained UNet2DModel (diffusers folder, e.g. a diffusion run's ema/); locked: eval mode, no " +
        "gradients, weights never written");
    static readonly Option<int[]> Stages = Opt.PositiveInts("--stages",
        "conditioning-embedding widths; one stage: condition at the sample's size, n stages: 2^(n-1)x", [16]);
    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "checkpoints in DIR/checkpoints/checkpoint-N (controlnet/, scheduler/, optimizer.bin, " +
        "trainer_state.json with the base model's path), then DIR/controlnet, DIR/scheduler, loss.png", "controlnet-run");
    static readonly Option<bool> Resume = Opt.Flag("--resume",
        "continue from the newest complete checkpoint with its stored options (--base defaults to the stored " +
        "path, --lr replaces the learning rate)");
    static readonly Option<int> Steps = Opt.Int("--steps", "total training steps", 2000, min: 1);
    static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 64, min: 1);
    static readonly Option<double> Lr = Opt.Double("--lr", "learning rate", 1e-4, min: 1e-12);
    static readonly Option<int> Warmup = Opt.Int("--warmup", "learning-rate warm-up steps", 100, min: 0);
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0, min: 0);
    static readonly Option<int> CheckpointEvery = Opt.Int("--checkpoint-every", "checkpoint every N steps (0: only at the end)", 500, min: 0);
    static readonly Option<double> Threshold = Opt.Double("--threshold", "edge threshold: Sobel magnitude > X on [0, 1] intensities", EdgeMaps.DefaultThreshold, min: 1e-6);
    public IEnumerable<Symbol> Symbols => [Base, ControlNetCommon.Scheduler, Out, Steps, Batch, Lr, Warmup, CheckpointEvery, Seed, Stages, Threshold, Resume, Common.Data, Common.Limit];

    public int Run(ParseResult args)
    {
        var outDir = args.GetValue(Out)!;
        var checkpoints = Path.Combine(outDir, "checkpoints");
        bool resume = args.GetValue(Resume);
        long steps = args.GetValue(Steps);
        var options = new ControlNetTrainingOptions(
            BatchSize: args.GetValue(Batch),
            LearningRate: args.GetValue(Lr),
            WarmupSteps: args.GetValue(Warmup),
            Seed: args.GetValue(Seed),
            CheckpointEvery: args.GetValue(CheckpointEvery),
            EdgeThreshold: args.GetValue(Threshold),
            ConditioningStages: args.GetValue(Stages)!);
        var basePath = args.GetValue(Base) ?? (resume ? ControlNetTrainer.StoredBaseModelPath(checkpoints) : null)
            ?? throw new UsageException("--base is required");
        using var unet = ControlNetCommon.LoadBase(basePath);
        var schedulerPath = ControlNetCommon.SchedulerPath(args, basePath);
        int? limit = args.GetValue(Common.Limit);
        var (train, _, description) = Common.FashionMnistSplits(args);
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
                !args.Given(Lr) ? null : options.LearningRate);
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
