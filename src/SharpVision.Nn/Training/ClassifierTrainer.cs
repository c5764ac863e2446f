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

/// <summary>Progress of a training run, reported after each step.</summary>
public readonly record struct TrainingProgress(long Step, long Steps, long ImagesSeen, double Loss);

/// <summary>Test accuracy and the confusion matrix (rows: true class, columns: predicted).</summary>
public sealed record ClassifierEvaluation(double Accuracy, int[,] Confusion, double Loss);

/// <summary>Trains and evaluates image classifiers with SharpVision's own softmax cross-entropy.</summary>
public static class ClassifierTrainer
{
    /// <summary>The linear scaling rule (Goyal et al. 2017): the learning rate grows with the batch size.</summary>
    public static double LinearScaledLearningRate(double baseRate, int baseBatch, int batchSize) => baseRate * batchSize / baseBatch;

    /// <summary>
    /// Trains <paramref name="model"/> with SGD on <paramref name="data"/> for <c>options.Images</c> images,
    /// reshuffling every epoch (deterministic from <c>options.Seed</c>).
    /// </summary>
    /// <returns>The mean loss over the last 10% of steps.</returns>
    public static double Train(nn.Module<Tensor, Tensor> model, LabeledImages data, ClassifierTrainingOptions options,
        Action<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.BatchSize, data.Count);
        long steps = Math.Max(1, options.Images / options.BatchSize);
        var images = data.ImagesTensor();
        var labels = data.LabelsTensor();
        var optimizer = torch.optim.SGD(model.parameters(), options.LearningRate, options.Momentum, weight_decay: options.WeightDecay);
        var rng = new Random(options.Seed);
        int[] order = [];
        int cursor = data.Count; // forces a shuffle before the first step
        var tail = new List<double>();
        long tailFrom = steps - Math.Max(1, steps / 10);
        model.train();
        for (long step = 0; step < steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            if (cursor + options.BatchSize > data.Count)
            {
                order = Enumerable.Range(0, data.Count).ToArray();
                rng.Shuffle(order);
                cursor = 0;
            }
            using var scope = torch.NewDisposeScope();
            var index = tensor(order.AsSpan(cursor, options.BatchSize).ToArray().Select(i => (long)i).ToArray());
            cursor += options.BatchSize;
            optimizer.zero_grad();
            var loss = CrossEntropyLoss.cross_entropy(model.forward(images.index_select(0, index)), labels.index_select(0, index));
            loss.backward();
            optimizer.step();
            double value = loss.item<float>();
            if (!double.IsFinite(value)) throw new InvalidOperationException($"training diverged: loss is {value} at step {step}");
            if (step >= tailFrom) tail.Add(value);
            progress?.Invoke(new TrainingProgress(step + 1, steps, (step + 1) * options.BatchSize, value));
        }
        return tail.Average();
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
