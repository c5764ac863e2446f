using System.Globalization;
using SharpVision.Experiments.Classifier;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 1: the Fashion-MNIST classifier trained with the project's cross-entropy (<see cref="CrossEntropyExperiment"/>);
/// its features serve FD-FMNIST later.</summary>
public sealed class CrossEntropyStage : TourStage
{
    public const string StageId = "crossentropy";
    public override string Id => StageId;
    public override string Title => "Cross-entropy: a Fashion-MNIST classifier";
    public override double ExpectedSeconds => 25;

    /// <summary>The classifier this stage saved, or null.</summary>
    public static string ClassifierPath(string outDir) => CrossEntropyExperiment.ClassifierFolder(Path.Combine(outDir, StageId));

    public override StageResult Run(TourContext context)
    {
        var result = CrossEntropyExperiment.Run(context.Train, context.Test, context.StageDir(Id), context.Budget.CrossEntropy, context.Progress());
        var inv = CultureInfo.InvariantCulture;
        var weakest = result.WeakestClass;
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "Softmax cross-entropy (log-softmax then negative log-likelihood) trains a classifier; SharpVision's cross_entropy equals torch.nn's on the parity fixtures.",
            Measured = string.Create(inv, $"A 3-layer CNN trained with SharpVision's cross-entropy on {result.TrainImagesSeen:N0} images reaches {result.TestAccuracy:P1} test accuracy (test loss {result.TestLoss:F3}) on {result.TestImages:N0} held-out images; the weakest class is {weakest.Key} ({weakest.Value:P0})."),
            Figures = StageResult.FiguresOf(result),
            Tables = [new ReportTable("Per-class test accuracy", ["class", "accuracy"],
                result.PerClassAccuracy.Select(kv => new[] { kv.Key, kv.Value.ToString("P1", inv) }).ToList())],
            Images = [new ReportImage(context.ReportPath(result.ConfusionChart), "Confusion matrix on the held-out images (rows: true class, columns: predicted)"),
                      new ReportImage(context.ReportPath(result.LossChart), "Training loss")],
        };
    }
}
