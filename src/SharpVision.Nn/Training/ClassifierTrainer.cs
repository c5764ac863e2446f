using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Data;
using SharpVision.Nn.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Nn.Training;

/// <summary>Options of one supervised training run.</summary>
/// <param name="BatchSize">Images per step.</param>
/// <param name="Images">Images seen in the whole run (steps = Images / BatchSize), so runs with different batch sizes see the same data.</param>
/// <param name="LearningRate">SGD learning rate at <paramref name="BatchSize"/> (see <see cref="ClassifierTrainer.LinearScaledLearningRate"/>).</param>
/// <param name="Momentum">SGD momentum.</param>
/// <param name="WeightDecay">L2 weight decay.</param>
/// <param name="Seed">Seeds the shuffling order.</param>
public sealed record ClassifierTrainingOptions(int BatchSize, int Images, double LearningRate, double Momentum = 0.9, double WeightDecay = 5e-4, int Seed = 0);

/// <summary>Where and how often <see cref="ClassifierTrainer.Train"/> writes <see cref="CheckpointFolders"/>, and whether it
/// continues from the newest one.</summary>
/// <param name="Root">The folder of the <c>checkpoint-N</c> folders.</param>
/// <param name="Every">Steps between checkpoints (0: only at the end).</param>
/// <param name="Resume">Continue from the newest complete checkpoint under <paramref name="Root"/>.</param>
/// <param name="Keep">Complete checkpoints kept on disk.</param>
public sealed record ClassifierCheckpoints(string Root, int Every, bool Resume = false, int Keep = 2);

/// <summary>Progress of a training run, reported after each step.</summary>
public readonly record struct TrainingProgress(long Step, long Steps, long ImagesSeen, double Loss);

/// <summary>Test accuracy and the confusion matrix (rows: true class, columns: predicted).</summary>
public sealed record ClassifierEvaluation(double Accuracy, int[,] Confusion, double Loss);

/// <summary>Trains and evaluates image classifiers with SharpVision's own softmax cross-entropy.</summary>
public static class ClassifierTrainer
{
    /// <summary>Names inside a checkpoint folder (beside <see cref="CheckpointFolders.StateFile"/>).</summary>
    public const string ModelFile = "model.safetensors";

    /// <summary>The linear scaling rule (Goyal et al. 2017): the learning rate grows with the batch size.</summary>
    public static double LinearScaledLearningRate(double baseRate, int baseBatch, int batchSize) => baseRate * batchSize / baseBatch;

    /// <summary>
    /// Trains <paramref name="model"/> with SGD on <paramref name="data"/> for <c>options.Images</c> images,
    /// reshuffling every epoch (deterministic from <c>options.Seed</c>), checkpointing when <paramref name="checkpoints"/>
    /// is given. A resumed run replays the data order up to its step and loads the weights and SGD momenta, so it ends
    /// with the weights of the uninterrupted run.
    /// </summary>
    /// <returns>The mean loss over the last 10% of steps.</returns>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (the optimizer does not take that step).</exception>
    /// <exception cref="FileNotFoundException">Resuming, but no complete checkpoint under the root.</exception>
    public static double Train(nn.Module<Tensor, Tensor> model, LabeledImages data, ClassifierTrainingOptions options,
        Action<TrainingProgress>? progress = null, CancellationToken cancel = default, ClassifierCheckpoints? checkpoints = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.BatchSize, data.Count);
        long steps = Math.Max(1, options.Images / options.BatchSize);
        var images = data.ImagesTensor();
        var labels = data.LabelsTensor();
        using var optimizer = torch.optim.SGD(model.parameters(), options.LearningRate, options.Momentum, weight_decay: options.WeightDecay);
        long start = 0;
        var tail = new List<double>();
        string? last = null;
        if (checkpoints is { Resume: true })
            (last, start, tail) = Restore(model, optimizer, checkpoints.Root, options.LearningRate);
        var order = new BatchOrder(data.Count, options.BatchSize, options.Seed);
        for (long step = 0; step < start; step++) order.Next(); // the data order as the uninterrupted run reached it
        long tailFrom = steps - Math.Max(1, steps / 10);
        model.train();
        for (long step = start; step < steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var index = tensor(order.Next());
            optimizer.zero_grad();
            var loss = CrossEntropyLoss.cross_entropy(model.forward(images.index_select(0, index)), labels.index_select(0, index));
            double value = loss.item<float>();
            TrainingDivergedException.ThrowIfNotFinite(value, step + 1, last);
            loss.backward();
            optimizer.step();
            if (step >= tailFrom) tail.Add(value);
            progress?.Invoke(new TrainingProgress(step + 1, steps, (step + 1) * options.BatchSize, value));
            if (checkpoints is not null && ((checkpoints.Every > 0 && (step + 1) % checkpoints.Every == 0) || step + 1 == steps))
                last = Save(checkpoints, step + 1, options, tail, model, optimizer);
        }
        return tail.Average();
    }

    /// <summary>The options stored in the newest complete checkpoint under <paramref name="checkpointRoot"/>.</summary>
    /// <exception cref="FileNotFoundException">No complete checkpoint there.</exception>
    public static ClassifierTrainingOptions StoredOptions(string checkpointRoot)
    {
        var (dir, state) = CheckpointFolders.LoadLatest(checkpointRoot);
        return state["options"].Deserialize<ClassifierTrainingOptions>()
            ?? throw new InvalidDataException($"{Path.Combine(dir, CheckpointFolders.StateFile)}: no options");
    }

    static string Save(ClassifierCheckpoints checkpoints, long step, ClassifierTrainingOptions options, List<double> tail,
        nn.Module<Tensor, Tensor> model, TorchSharp.Modules.SGD optimizer) =>
        CheckpointFolders.Save(checkpoints.Root, step, options.Seed, checkpoints.Keep,
            new JsonObject
            {
                ["options"] = JsonSerializer.SerializeToNode(options),
                ["tail_losses"] = new JsonArray([.. tail.Select(v => JsonValue.Create(v))]),
                ["rng"] = "System.Random(seed) shuffles once per epoch; a resumed run replays the shuffles up to its step",
            }, temp =>
            {
                StateDict.SaveSafetensors(model.state_dict(), Path.Combine(temp, ModelFile));
                optimizer.save_state_dict(Path.Combine(temp, CheckpointFolders.OptimizerFile));
            });

    static (string Directory, long Step, List<double> Tail) Restore(nn.Module<Tensor, Tensor> model, TorchSharp.Modules.SGD optimizer, string root, double learningRate)
    {
        var (dir, state) = CheckpointFolders.LoadLatest(root);
        var weights = Path.Combine(dir, ModelFile);
        var sd = StateDict.LoadSafetensors(weights);
        try { StateDict.LoadInto(model, sd, strict: true, source: weights); }
        finally { foreach (var t in sd.Values) t.Dispose(); }
        optimizer.load_state_dict(Path.Combine(dir, CheckpointFolders.OptimizerFile));
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
        var tail = state["tail_losses"]?.AsArray().Select(v => v!.GetValue<double>()).ToList() ?? [];
        return (dir, CheckpointFolders.StepOf(state), tail);
    }

    /// <summary>Batches of a shuffled order, reshuffled by one <see cref="Random"/> whenever a whole batch no longer fits.</summary>
    sealed class BatchOrder(int count, int batchSize, int seed)
    {
        readonly Random rng = new(seed);
        int[] order = [];
        int cursor = int.MaxValue; // forces a shuffle before the first step

        public long[] Next()
        {
            if (cursor > count - batchSize)
            {
                order = Enumerable.Range(0, count).ToArray();
                rng.Shuffle(order);
                cursor = 0;
            }
            var batch = order.AsSpan(cursor, batchSize).ToArray().Select(i => (long)i).ToArray();
            cursor += batchSize;
            return batch;
        }
    }

    /// <summary>Accuracy, confusion matrix and mean loss of <paramref name="model"/> in eval mode.</summary>
    public static ClassifierEvaluation Evaluate(nn.Module<Tensor, Tensor> model, LabeledImages data, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        model.eval();
        using var noGrad = torch.no_grad();
        var images = data.ImagesTensor();
        var labels = data.LabelsTensor();
        var confusion = new int[10, 10];
        double lossSum = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            int n = Math.Min(batchSize, data.Count - start);
            var logits = model.forward(images.narrow(0, start, n));
            var y = labels.narrow(0, start, n);
            lossSum += CrossEntropyLoss.cross_entropy(logits, y, reduction: Reduction.Sum).item<float>();
            var predicted = logits.argmax(1).data<long>().ToArray();
            var truth = y.data<long>().ToArray();
            for (int i = 0; i < n; i++) confusion[truth[i], predicted[i]]++;
        }
        int correct = Enumerable.Range(0, 10).Sum(c => confusion[c, c]);
        return new ClassifierEvaluation((double)correct / data.Count, confusion, lossSum / data.Count);
    }
}
