using System.Globalization;
using SharpVision.Experiments.Normalization;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 2: the batch-size study of BN, GN, LN, IN and SN (<see cref="NormalizationExperiment"/>).</summary>
public sealed class NormalizationStage : TourStage
{
    public override string Id => "norms";
    public override string Title => "Normalization: BN, GN, LN, IN, SN against batch size";
    public override double ExpectedSeconds => 100;

    public override StageResult Run(TourContext context)
    {
        var options = context.Budget.Normalization;
        var result = NormalizationExperiment.Run(context.Train, context.Test, context.StageDir(Id), options, context.Progress());

        var inv = CultureInfo.InvariantCulture;
        var batches = options.BatchSizes;
        double Acc(NormKind k, int b) => result.Run(k, b).TestAccuracy;
        int small = batches.Min(), large = batches.Where(b => b != small).DefaultIfEmpty(small).Max();
        var sn = result.SwitchNormRuns;
        var snRows = sn.SelectMany(r => r.SwitchWeights.Select(w => new[]
        {
            r.BatchSize.ToString(inv), w.Layer, NormalizationStudyFiles.Triple(w.Mean), NormalizationStudyFiles.Triple(w.Variance),
        })).ToList();
        var snSentence = sn.Count >= 2
            ? string.Create(inv, $" SN gives BN's statistics a mean weight of {NormalizationResult.BnShare(sn[0]):F2} at batch {sn[0].BatchSize} and {NormalizationResult.BnShare(sn[^1]):F2} at batch {sn[^1].BatchSize}.")
            : "";
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "BN normalizes each channel over the batch, so with tiny batches its statistics are noisy and differ from the running averages used at test time; GN, LN and IN normalize within one sample and do not care about batch size; SN learns how much of each to use.",
            Measured = string.Create(inv, $"Test accuracy at batch {small} / {large}: BN {Acc(NormKind.BatchNorm, small):P1} / {Acc(NormKind.BatchNorm, large):P1}, GN {Acc(NormKind.GroupNorm, small):P1} / {Acc(NormKind.GroupNorm, large):P1}, SN {Acc(NormKind.SwitchNorm, small):P1} / {Acc(NormKind.SwitchNorm, large):P1} ({result.ImagesPerRun:N0} images per run).{snSentence}"),
            Figures = StageResult.FiguresOf(result),
            Tables =
            [
                new ReportTable("Test accuracy", ["layer", .. batches.Select(b => $"batch {b}")],
                    options.Kinds.Select(k => new[] { NormalizationStudyFiles.Short(k) }.Concat(batches.Select(b => Acc(k, b).ToString("P1", inv))).ToArray()).ToList()),
                new ReportTable("SN's learned importance weights (softmax over IN, LN, BN)", ["batch", "layer", "mean", "variance"], snRows),
            ],
            Images = [new ReportImage(context.ReportPath(result.Chart), "Test accuracy against batch size, one line per normalization layer")],
        };
    }
}
