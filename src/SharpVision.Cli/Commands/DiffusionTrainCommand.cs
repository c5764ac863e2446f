using System.CommandLine;
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
public sealed class DiffusionTrainCommand : ICommand
{
    public string Name => "diffusion train";
    public string Summary => "Train a DDPM UNet on Fashion-MNIST (EMA, warm-up, class conditioning, checkpoints, --resume)";
    public string Notes => """
        Images: Fashion-MNIST 28x28 padded to 32x32 with background -1, pixels scaled to [-1, 1].
        """;

    static readonly Option<bool> Conditional = Opt.Flag("--conditional",
        "class-conditional model: num_class_embeds = 11 (classes 0-9, null class 10), labels dropped to the " +
        "null class with probability --label-dropout (classifier-free guidance)");
    static readonly Option<int[]> Channels = Opt.PositiveInts("--channels",
        "UNet width per level (resolution halves between levels; attention at the lowest)", [32, 64, 64]);
    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "checkpoints in DIR/checkpoints/checkpoint-N (model/, ema/, scheduler/ in diffusers' format, " +
        "optimizer.bin, trainer_state.json), grids in DIR/samples, and at the end the final DIR/model, " +
        "DIR/ema and DIR/scheduler folders", "diffusion-run");
    static readonly Option<bool> Resume = Opt.Flag("--resume",
        "continue from the newest complete checkpoint with its stored options (--steps may raise the target, " +
        "--lr replaces the learning rate); a killed run loses at most the steps since that checkpoint");
    static readonly Option<int> Steps = Opt.Int("--steps", "total training steps; with --resume, the run continues up to N", 5000, min: 1);
    static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 64, min: 1);
    static readonly Option<double> Lr = Opt.Double("--lr", "learning rate", 2e-4, min: 1e-12);
    static readonly Option<int> Warmup = Opt.Int("--warmup", "learning-rate warm-up steps", 200, min: 0);
    static readonly Option<double> Ema = Opt.Double("--ema", "EMA decay of the weights in ema/", 0.999, min: 0, max: 1, metavar: "DECAY");
    static readonly Option<double> LabelDropout = Opt.Double("--label-dropout",
        "with --conditional: fraction of labels replaced by the null class (for guidance)", 0.1, min: 0, max: 1, metavar: "P");
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0, min: 0);
    static readonly Option<int> CheckpointEvery = Opt.Int("--checkpoint-every", "checkpoint every N steps (0: only at the end)", 500, min: 0);
    static readonly Option<int> SampleEvery = Opt.Int("--sample-every", "write a sample grid every N steps (0: never)", 500, min: 0);
    static readonly Option<int> SampleSteps = Opt.Int("--sample-steps", "DDIM steps of those grids", 50, min: 1);
    static readonly Option<string> Objective = Opt.Text("--objective", "epsilon|v_prediction", "what the UNet predicts", "epsilon");
    static readonly Option<int> Layers = Opt.Int("--layers", "layers_per_block", 1, min: 1, max: 8);
    static readonly Option<int> Timesteps = Opt.Int("--timesteps", "num_train_timesteps of the DDPM schedule", 1000, min: 2, max: 100_000);
    public IEnumerable<Symbol> Symbols => [Out, Steps, Batch, Lr, Warmup, Objective, Conditional, LabelDropout, Ema, Channels, Layers, Timesteps, CheckpointEvery, SampleEvery, SampleSteps, Seed, Resume, Common.Data, Common.Limit];

    public int Run(ParseResult args)
    {
        var outDir = args.GetValue(Out)!;
        var checkpoints = Path.Combine(outDir, "checkpoints");
        bool resume = args.GetValue(Resume);
        long steps = args.GetValue(Steps);
        var options = new DiffusionTrainingOptions(
            BatchSize: args.GetValue(Batch),
            LearningRate: args.GetValue(Lr),
            WarmupSteps: args.GetValue(Warmup),
            EmaDecay: args.GetValue(Ema),
            LabelDropout: args.GetValue(LabelDropout),
            Seed: args.GetValue(Seed),
            CheckpointEvery: args.GetValue(CheckpointEvery),
            SampleEvery: args.GetValue(SampleEvery),
            SampleSteps: args.GetValue(SampleSteps));
        var objective = DiffusionObjective.Parse(args.GetValue(Objective)!);
        bool conditional = args.GetValue(Conditional);
        var channels = args.GetValue(Channels)!;
        int layers = args.GetValue(Layers);
        int timesteps = args.GetValue(Timesteps);
        int? limit = args.GetValue(Common.Limit);
        var (train, _, description) = Common.FashionMnistSplits(args);
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
            trainer = DiffusionTrainer.Resume(checkpoints, images, conditional ? labels : null, !args.Given(Lr) ? null : options.LearningRate);
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
