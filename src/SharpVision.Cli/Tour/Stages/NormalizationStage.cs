using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Experiments.Normalization;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 2: the batch-size study of BN, GN, LN, IN and SN (the library's <see cref="NormalizationStudy"/>).</summary>
public sealed class NormalizationStage : TourStage
{
    public override string Id => "norms";
    public override string Title => "Normalization: BN, GN, LN, IN, SN against batch size";
    public override double ExpectedSeconds => 100;

    public override StageResult Run(TourContext context)
    {
        var dir = context.StageDir(Id);
        var kinds = Enum.GetValues<NormKind>();
        var options = new NormalizationStudyOptions(kinds, context.Budget.NormBatchSizes, Images: context.Budget.NormImages);
        double total = (double)kinds.Length * options.BatchSizes.Count * options.Images;
        var seen = new Dictionary<(NormKind, int), long>();
        var gate = new object();
        // one libtorch thread per run, runs in parallel: faster than two threads on one small run (see `sharpvision norms`)
        var runs = NormalizationStudy.RunAll(context.Train, context.Test, options,
            (kind, batch, p) =>
            {
                lock (gate)
                {
                    seen[(kind, batch)] = p.ImagesSeen;
                    context.Progress(seen.Values.Sum() / total, $"{NormalizationStudyFiles.Short(kind)} batch {batch}");
                }
            },
            parallelism: Environment.ProcessorCount, threadsPerRun: 1);
        NormalizationStudyFiles.Chart(Path.Combine(dir, "norms.png"), runs, options);

        var inv = CultureInfo.InvariantCulture;
        double Acc(NormKind k, int b) => runs.Single(r => r.Kind == k && r.BatchSize == b).TestAccuracy;
        int small = options.BatchSizes.Min(), large = options.BatchSizes.Where(b => b != small).DefaultIfEmpty(small).Max();
        var accuracy = new JsonObject(kinds.Select(k => KeyValuePair.Create(NormalizationStudyFiles.Short(k),
            (JsonNode?)new JsonObject(options.BatchSizes.Select(b => KeyValuePair.Create($"batch_{b}", (JsonNode?)Acc(k, b)))))));
        var sn = runs.Where(r => r.Kind == NormKind.SwitchNorm).OrderBy(r => r.BatchSize).ToList();
        var snRows = sn.SelectMany(r => r.SwitchWeights.Select(w => new[]
        {
            r.BatchSize.ToString(inv), w.Layer, NormalizationStudyFiles.Triple(w.Mean), NormalizationStudyFiles.Triple(w.Variance),
        })).ToList();
        double BnShare(NormalizationRun r) => r.SwitchWeights.Count == 0 ? double.NaN : r.SwitchWeights.Average(w => w.Mean[2]);
        var figures = new JsonObject
        {
            ["images_per_run"] = options.Images,
            ["test_accuracy"] = accuracy,
            ["sn_mean_bn_weight"] = new JsonObject(sn.Select(r => KeyValuePair.Create($"batch_{r.BatchSize}", (JsonNode?)BnShare(r)))),
        };
        var snSentence = sn.Count >= 2
            ? string.Create(inv, $" SN gives BN's statistics a mean weight of {BnShare(sn[0]):F2} at batch {sn[0].BatchSize} and {BnShare(sn[^1]):F2} at batch {sn[^1].BatchSize}.")
            : "";
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "BN normalizes each channel over the batch, so with tiny batches its statistics are noisy and differ from the running averages used at test time; GN, LN and IN normalize within one sample and do not care about batch size; SN learns how much of each to use.",
            Measured = string.Create(inv, $"Test accuracy at batch {small} / {large}: BN {Acc(NormKind.BatchNorm, small):P1} / {Acc(NormKind.BatchNorm, large):P1}, GN {Acc(NormKind.GroupNorm, small):P1} / {Acc(NormKind.GroupNorm, large):P1}, SN {Acc(NormKind.SwitchNorm, small):P1} / {Acc(NormKind.SwitchNorm, large):P1} ({options.Images:N0} images per run).{snSentence}"),
            Figures = figures,
            Tables =
            [
                new ReportTable("Test accuracy", ["layer", .. options.BatchSizes.Select(b => $"batch {b}")],
                    kinds.Select(k => new[] { NormalizationStudyFiles.Short(k) }.Concat(options.BatchSizes.Select(b => Acc(k, b).ToString("P1", inv))).ToArray()).ToList()),
                new ReportTable("SN's learned importance weights (softmax over IN, LN, BN)", ["batch", "layer", "mean", "variance"], snRows),
            ],
            Images = [new ReportImage(TourContext.Relative(Id, "norms.png"), "Test accuracy against batch size, one line per normalization layer")],
        };
    }
}
