using System.Text.Json.Serialization;
using SharpVision.Nn.Data;

namespace SharpVision.Experiments.Normalization;

/// <summary>Options of <see cref="NormalizationExperiment"/>: the study's layers, batch sizes and images per run.</summary>
public sealed record NormalizationExperimentOptions
{
    /// <summary>The layers compared (default: all five).</summary>
    public IReadOnlyList<NormKind> Kinds { get; init; } = Enum.GetValues<NormKind>();

    /// <summary>Batch sizes every layer trains at.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [2, 4, 16, 64];

    /// <summary>Images seen by every run, whatever its batch size.</summary>
    public int Images { get; init; } = 10_000;

    /// <summary>Runs at a time, each on one libtorch thread (faster than two threads on one small run; see <c>sharpvision norms</c>).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The study's own options (its learning rate and seed at their defaults).</summary>
    public NormalizationStudyOptions Study => new(Kinds, BatchSizes, Images);
}

/// <summary>What <see cref="NormalizationExperiment"/> measured and wrote. The JSON names (snake_case) are the report's.</summary>
/// <param name="ImagesPerRun">Images each run saw.</param>
/// <param name="TestAccuracy">Test accuracy by layer (BN, GN, ...) and then by <c>batch_B</c>.</param>
/// <param name="SnMeanBnWeight">SN's mean importance of BN's statistics (over its layers) by <c>batch_B</c>.</param>
/// <param name="Runs">Every run, in (layer, batch size) order.</param>
/// <param name="Chart">Test accuracy against batch size (PNG).</param>
public sealed record NormalizationResult(
    int ImagesPerRun, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> TestAccuracy, IReadOnlyDictionary<string, double> SnMeanBnWeight,
    [property: JsonIgnore] IReadOnlyList<NormalizationRun> Runs, [property: JsonIgnore] string Chart) : IExperimentResult
{
    /// <summary>The run of one layer at one batch size.</summary>
    public NormalizationRun Run(NormKind kind, int batchSize) => Runs.Single(r => r.Kind == kind && r.BatchSize == batchSize);

    /// <summary>The SwitchNorm runs, smallest batch first.</summary>
    [JsonIgnore] public IReadOnlyList<NormalizationRun> SwitchNormRuns => Runs.Where(r => r.Kind == NormKind.SwitchNorm).OrderBy(r => r.BatchSize).ToList();

    /// <summary>SN's mean importance of BN's statistics over its layers in <paramref name="run"/> (NaN for other layers).</summary>
    public static double BnShare(NormalizationRun run) => run.SwitchWeights.Count == 0 ? double.NaN : run.SwitchWeights.Average(w => w.Mean[2]);

    /// <inheritdoc/>
    [JsonIgnore] public IReadOnlyList<string> Files => [Chart];
}

/// <summary>The normalization batch-size study (<see cref="NormalizationStudy"/>) run in parallel, with its chart.</summary>
public static class NormalizationExperiment
{
    /// <summary>Runs every (layer, batch size) pair and writes the chart into <paramref name="outDir"/>.</summary>
    public static NormalizationResult Run(LabeledImages train, LabeledImages test, string outDir, NormalizationExperimentOptions options,
        IProgress<ExperimentProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(outDir);
        var study = options.Study;
        double total = (double)study.Kinds.Count * study.BatchSizes.Count * study.Images;
        var seen = new Dictionary<(NormKind, int), long>();
        var gate = new Lock();
        var runs = NormalizationStudy.RunAll(train, test, study,
            (kind, batch, p) =>
            {
                lock (gate)
                {
                    seen[(kind, batch)] = p.ImagesSeen;
                    progress?.Report(new(seen.Values.Sum() / total, $"{NormalizationStudyFiles.Short(kind)} batch {batch}"));
                }
            },
            parallelism: options.Parallelism, threadsPerRun: 1);
        var chart = Path.Combine(outDir, "norms.png");
        NormalizationStudyFiles.Chart(chart, runs, study);

        var accuracy = study.Kinds.ToDictionary(NormalizationStudyFiles.Short, k => (IReadOnlyDictionary<string, double>)study.BatchSizes
            .ToDictionary(b => $"batch_{b}", b => runs.Single(r => r.Kind == k && r.BatchSize == b).TestAccuracy));
        var sn = runs.Where(r => r.Kind == NormKind.SwitchNorm).OrderBy(r => r.BatchSize)
            .ToDictionary(r => $"batch_{r.BatchSize}", NormalizationResult.BnShare);
        return new NormalizationResult(study.Images, accuracy, sn, runs, chart);
    }
}
