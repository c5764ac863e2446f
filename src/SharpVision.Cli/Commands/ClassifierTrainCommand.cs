using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Experiments.Classifier;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Training;
using Spectre.Console;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision classifier train</c>: trains the Fashion-MNIST CNN (BatchNorm) with checkpoints and resume.</summary>
public sealed class ClassifierTrainCommand : ICommand, IHasFlags
{
    public string Name => "classifier train";
    public string Summary => "Train the Fashion-MNIST CNN (BatchNorm, SGD) with checkpoints and --resume; test accuracy";
    public IEnumerable<string> Flags => ["resume"];
    public string Usage => """
        sharpvision classifier train [--out DIR] [--images 32000] [--batch 64] [--lr 0.05] [--seed 0]
                                     [--checkpoint-every 100] [--resume] [--data DIR] [--limit N] [--threads 1]

          --out DIR            checkpoints in DIR/checkpoints/checkpoint-N (model.safetensors, optimizer.bin with the
                               SGD momenta, trainer_state.json), the final weights in DIR/model.safetensors
          --images N           images seen in the whole run (steps = N / batch)
          --resume             continue from the newest complete checkpoint with its stored options (--lr replaces the
                               learning rate when given)
          --data DIR           full Fashion-MNIST IDX files (default: the embedded test split, 8,000 train / 2,000 test)
          --limit N            train on the first N images only
          --threads T          libtorch threads (default 1)
        """;

    public int Run(Arguments args)
    {
        var outDir = args.Option("out") ?? "classifier-run";
        var checkpoints = Path.Combine(outDir, "checkpoints");
        bool resume = args.Flag("resume");
        var options = new ClassifierTrainingOptions(
            BatchSize: args.Int("batch", 64, min: 1),
            Images: args.Int("images", 32_000, min: 1),
            LearningRate: args.Double("lr", 0.05, min: 1e-12),
            Seed: args.Int("seed", 0, min: 0));
        int every = args.Int("checkpoint-every", 100, min: 0);
        int? limit = args.Option("limit") is null ? null : args.Int("limit", 0, min: 1);
        torch.set_num_threads(args.Int("threads", 1, min: 1));
        var (train, test, description) = Common.FashionMnistSplits(args);
        args.RejectUnknown();
        if (limit is int l) train = train.Slice(0, Math.Min(l, train.Count));

        using var folderLock = OutputFolderLock.Acquire(outDir);
        if (resume)
        {
            if (CheckpointFolders.Latest(checkpoints) is not { } latest) throw new UsageException($"--resume: no complete checkpoint under {checkpoints}");
            var stored = ClassifierTrainer.StoredOptions(checkpoints);
            options = args.Option("lr") is null ? stored : stored with { LearningRate = options.LearningRate };
            AnsiConsole.WriteLine($"Resuming from {latest} with its stored options");
        }
        if (options.BatchSize > train.Count) throw new UsageException($"--batch {options.BatchSize} exceeds the {train.Count} training images");
        torch.manual_seed(options.Seed);
        using var model = FashionClassifier.WithBatchNorm();
        long steps = Math.Max(1, options.Images / options.BatchSize);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training the Fashion-MNIST CNN (BatchNorm) on {description}{(limit is null ? "" : $", first {train.Count}")}: {steps} steps of {options.BatchSize}, SGD lr {options.LearningRate}"));
        double tail = ProgressDisplay.Run("img", ctx =>
        {
            var task = ctx.AddTask("training", maxValue: steps * options.BatchSize);
            return ClassifierTrainer.Train(model, train, options, p =>
            {
                task.Value = p.ImagesSeen;
                task.Description = string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.Steps} loss {p.Loss:F4}");
            }, checkpoints: new ClassifierCheckpoints(checkpoints, every, resume));
        });
        var weights = Path.Combine(outDir, ClassifierTrainer.ModelFile);
        StateDict.SaveSafetensors(model.state_dict(), weights);
        var eval = ClassifierTrainer.Evaluate(model, test);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Done: mean loss of the last 10% of steps {tail:F4}, test accuracy {eval.Accuracy:P2} ({test.Count:N0} images). Wrote {weights} and {checkpoints}"));
        return 0;
    }
}
