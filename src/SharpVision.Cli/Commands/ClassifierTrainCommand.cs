using System.CommandLine;
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
public sealed class ClassifierTrainCommand : ICommand
{
    public string Name => "classifier train";
    public string Summary => "Train the Fashion-MNIST CNN (BatchNorm, SGD) with checkpoints and --resume; test accuracy";

    static readonly Option<string> Out = Opt.Text("--out", "DIR",
        "checkpoints in DIR/checkpoints/checkpoint-N (model.safetensors, optimizer.bin with the SGD momenta, " +
        "trainer_state.json), the final weights in DIR/model.safetensors", "classifier-run");
    static readonly Option<int> Images = Opt.Int("--images", "images seen in the whole run (steps = N / batch)", 32_000, min: 1);
    static readonly Option<bool> Resume = Opt.Flag("--resume",
        "continue from the newest complete checkpoint with its stored options (--lr replaces the learning " +
        "rate when given)");
    static readonly Option<int> Threads = Opt.Int("--threads", "libtorch threads", 1, min: 1, metavar: "T");
    static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 64, min: 1);
    static readonly Option<double> Lr = Opt.Double("--lr", "learning rate", 0.05, min: 1e-12);
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0, min: 0);
    static readonly Option<int> CheckpointEvery = Opt.Int("--checkpoint-every", "checkpoint every N steps (0: only at the end)", 100, min: 0);
    public IEnumerable<Symbol> Symbols => [Out, Images, Batch, Lr, Seed, CheckpointEvery, Resume, Common.Data, Common.Limit, Threads];

    public int Run(ParseResult args)
    {
        var outDir = args.GetValue(Out)!;
        var checkpoints = Path.Combine(outDir, "checkpoints");
        bool resume = args.GetValue(Resume);
        var options = new ClassifierTrainingOptions(
            BatchSize: args.GetValue(Batch),
            Images: args.GetValue(Images),
            LearningRate: args.GetValue(Lr),
            Seed: args.GetValue(Seed));
        int every = args.GetValue(CheckpointEvery);
        int? limit = args.GetValue(Common.Limit);
        torch.set_num_threads(args.GetValue(Threads));
        var (train, test, description) = Common.FashionMnistSplits(args);
        if (limit is int l) train = train.Slice(0, Math.Min(l, train.Count));

        using var folderLock = OutputFolderLock.Acquire(outDir);
        if (resume)
        {
            if (CheckpointFolders.Latest(checkpoints) is not { } latest) throw new UsageException($"--resume: no complete checkpoint under {checkpoints}");
            var stored = ClassifierTrainer.StoredOptions(checkpoints);
            options = !args.Given(Lr) ? stored : stored with { LearningRate = options.LearningRate };
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
