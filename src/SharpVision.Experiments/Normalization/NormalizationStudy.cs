using System.Diagnostics;
using SharpVision.Experiments.Classifier;
using SharpVision.Nn.Data;
using SharpVision.Nn.Normalization;
using SharpVision.Nn.Training;

namespace SharpVision.Experiments.Normalization;

/// <summary>The normalization layers the study compares.</summary>
public enum NormKind { BatchNorm, GroupNorm, LayerNorm, InstanceNorm, SwitchNorm }

/// <summary>Options of the batch-size study.</summary>
/// <param name="BatchSizes">Batch sizes to train at (default 2, 4, 16, 64).</param>
/// <param name="Images">Images seen by every run, whatever its batch size.</param>
/// <param name="BaseLearningRate">SGD learning rate at <paramref name="BaseBatch"/>; other batch sizes scale it linearly.</param>
/// <param name="Seed">Seeds weights and shuffling; every run starts from the same seed.</param>
public sealed record NormalizationStudyOptions(
    IReadOnlyList<NormKind> Kinds, IReadOnlyList<int> BatchSizes, int Images = 24_000,
    double BaseLearningRate = 0.05, int BaseBatch = 16, int Seed = 0, int GroupNormGroups = 8);

/// <summary>One run's result.</summary>
/// <param name="SwitchWeights">For SN: each layer's learned importance of (IN, LN, BN) statistics, softmax of mean_weight and var_weight.</param>
public sealed record NormalizationRun(NormKind Kind, int BatchSize, double TestAccuracy, double FinalTrainLoss, TimeSpan Elapsed,
    IReadOnlyList<SwitchImportance> SwitchWeights);

/// <summary>SN's learned importance weights of one layer, over the (IN, LN, BN) statistics.</summary>
public sealed record SwitchImportance(string Layer, double[] Mean, double[] Variance);

/// <summary>
/// The design notes' claim, measured: train the same small CNN (<see cref="FashionClassifier"/>) with
/// BN, GN, LN, IN and SN at several batch sizes, seeing the same number of images each time, and compare
/// test accuracy. BN's statistics are estimated from the batch, so at batch sizes of 2–4 they are noisy
/// and differ from the running averages used at test time; GN, LN and IN normalize each sample on its
/// own; SN learns a softmax-weighted mix of the three.
/// </summary>
public static class NormalizationStudy
{
    /// <summary>
    /// A normalization layer for <paramref name="channels"/> feature maps. LN and IN are built as
    /// <see cref="GroupNorm"/> with one group and with one group per channel: over (C, H, W) and over
    /// (H, W) per channel respectively, with a per-channel affine as in the GN paper (Wu and He 2018, Fig. 2).
    /// </summary>
    public static nn.Module<Tensor, Tensor> CreateNorm(NormKind kind, int channels, int groups = 8) => kind switch
    {
        NormKind.BatchNorm => new BatchNorm2d(channels),
        NormKind.GroupNorm => new GroupNorm(Math.Min(groups, channels), channels),
        NormKind.LayerNorm => new GroupNorm(1, channels),
        NormKind.InstanceNorm => new GroupNorm(channels, channels),
        NormKind.SwitchNorm => new SwitchNorm2d(channels),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"kind must be one of {string.Join(", ", Enum.GetNames<NormKind>())}"),
    };

    static readonly Lock SeedLock = new();

    /// <summary>Runs one configuration: a fresh model from the seed, trained then tested.</summary>
    public static NormalizationRun RunOne(NormKind kind, int batchSize, LabeledImages train, LabeledImages test,
        NormalizationStudyOptions options, Action<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        FashionClassifier model;
        // Initialisation draws from libtorch's global generator; training draws nothing from it (shuffling uses
        // System.Random), so holding the lock while seeding and building keeps parallel runs deterministic.
        lock (SeedLock)
        {
            torch.manual_seed(options.Seed);
            model = new FashionClassifier(c => CreateNorm(kind, c, options.GroupNormGroups));
        }
        using var owned = model;
        var lr = ClassifierTrainer.LinearScaledLearningRate(options.BaseLearningRate, options.BaseBatch, batchSize);
        var loss = ClassifierTrainer.Train(model, train, new ClassifierTrainingOptions(batchSize, options.Images, lr, Seed: options.Seed), progress, cancel);
        var eval = ClassifierTrainer.Evaluate(model, test);
        return new NormalizationRun(kind, batchSize, eval.Accuracy, loss, clock.Elapsed, SwitchWeightsOf(model));
    }

    /// <summary>
    /// Runs every (kind, batch size) pair, <paramref name="parallelism"/> at a time (each run on its own thread;
    /// results do not depend on the order or the parallelism). Results come back in (kind, batch size) order.
    /// </summary>
    /// <param name="progress">Called from the runs' threads with each run's progress.</param>
    /// <param name="threadsPerRun">libtorch intra-op threads of each run.</param>
    public static IReadOnlyList<NormalizationRun> RunAll(LabeledImages train, LabeledImages test, NormalizationStudyOptions options,
        Action<NormKind, int, TrainingProgress>? progress = null, Action<NormalizationRun>? finished = null, int parallelism = 1,
        int threadsPerRun = 1, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parallelism);
        var pairs = options.Kinds.SelectMany(k => options.BatchSizes.Select(b => (Kind: k, Batch: b)))
            // Longest runs (smallest batches: most steps) first, so parallel workers finish together.
            .OrderBy(p => p.Batch).ToList();
        var results = new NormalizationRun[pairs.Count];
        Parallel.For(0, pairs.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancel }, i =>
        {
            var (kind, batch) = pairs[i];
            // OpenMP's thread count is per calling thread: set it on each worker, not once for the process.
            torch.set_num_threads(threadsPerRun);
            results[i] = RunOne(kind, batch, train, test, options, p => progress?.Invoke(kind, batch, p), cancel);
            finished?.Invoke(results[i]);
        });
        return results.OrderBy(r => options.Kinds.ToList().IndexOf(r.Kind)).ThenBy(r => options.BatchSizes.ToList().IndexOf(r.BatchSize)).ToList();
    }

    /// <summary>Softmax of every SwitchNorm layer's mean_weight and var_weight, in (IN, LN, BN) order.</summary>
    public static IReadOnlyList<SwitchImportance> SwitchWeightsOf(nn.Module model)
    {
        var result = new List<SwitchImportance>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not SwitchNorm2d sn) continue;
            using var noGrad = torch.no_grad();
            result.Add(new SwitchImportance(name,
                sn.mean_weight.softmax(0).to(ScalarType.Float64).data<double>().ToArray(),
                sn.var_weight.softmax(0).to(ScalarType.Float64).data<double>().ToArray()));
        }
        return result;
    }
}
