using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 1: the Fashion-MNIST classifier trained with the project's cross-entropy; its features serve FD-FMNIST later.</summary>
public sealed class CrossEntropyStage : TourStage
{
    public const string StageId = "crossentropy", ClassifierFolder = "classifier";
    public override string Id => StageId;
    public override string Title => "Cross-entropy: a Fashion-MNIST classifier";
    public override double ExpectedSeconds => 25;

    /// <summary>The classifier this stage saved, or null.</summary>
    public static string ClassifierPath(string outDir) => Path.Combine(outDir, StageId, ClassifierFolder);

    public override StageResult Run(TourContext context)
    {
        var dir = context.StageDir(Id);
        int images = context.Budget.ClassifierImages;
        var curve = new List<(double Images, double Loss)>();
        double smoothed = double.NaN;
        using var classifier = FeatureClassifier.Train(context.Train, context.Test, images, progress: p =>
        {
            smoothed = double.IsNaN(smoothed) ? p.Loss : 0.98 * smoothed + 0.02 * p.Loss;
            if (p.Step % 10 == 0 || p.Step == p.Steps) curve.Add((p.ImagesSeen, smoothed));
            context.Progress(p.ImagesSeen / (double)images, string.Create(CultureInfo.InvariantCulture, $"{p.ImagesSeen:N0} images, loss {smoothed:F3}"));
        });
        classifier.Save(Path.Combine(dir, ClassifierFolder));
        var eval = ClassifierTrainer.Evaluate(classifier.Model, context.Test);
        Charts.Confusion(Path.Combine(dir, "confusion.png"), string.Create(CultureInfo.InvariantCulture, $"Test confusion matrix ({eval.Accuracy:P1} accurate)"),
            eval.Confusion, FashionMnist.ClassNames);
        Charts.Lines(Path.Combine(dir, "loss.png"), "Training loss (cross-entropy, smoothed)", "images seen", "loss",
            [new Series("train loss", curve.Select(c => c.Images).ToArray(), curve.Select(c => c.Loss).ToArray())]);

        var inv = CultureInfo.InvariantCulture;
        var perClass = Enumerable.Range(0, 10).Select(c =>
        {
            double row = Enumerable.Range(0, 10).Sum(j => eval.Confusion[c, j]);
            return row > 0 ? eval.Confusion[c, c] / row : 0;
        }).ToArray();
        int worst = Array.IndexOf(perClass, perClass.Min());
        var figures = new JsonObject
        {
            ["test_accuracy"] = eval.Accuracy,
            ["test_loss"] = eval.Loss,
            ["test_images"] = context.Test.Count,
            ["train_images_seen"] = images,
            ["per_class_accuracy"] = new JsonObject(Enumerable.Range(0, 10).Select(c => KeyValuePair.Create(FashionMnist.ClassNames[c], (JsonNode?)perClass[c]))),
        };
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "Softmax cross-entropy (log-softmax then negative log-likelihood) trains a classifier; SharpVision's cross_entropy equals torch.nn's on the parity fixtures.",
            Measured = string.Create(inv, $"A 3-layer CNN trained with SharpVision's cross-entropy on {images:N0} images reaches {eval.Accuracy:P1} test accuracy (test loss {eval.Loss:F3}) on {context.Test.Count:N0} held-out images; the weakest class is {FashionMnist.ClassNames[worst]} ({perClass[worst]:P0})."),
            Figures = figures,
            Tables = [new ReportTable("Per-class test accuracy", ["class", "accuracy"],
                Enumerable.Range(0, 10).Select(c => new[] { FashionMnist.ClassNames[c], perClass[c].ToString("P1", inv) }).ToList())],
            Images = [new ReportImage(TourContext.Relative(Id, "confusion.png"), "Confusion matrix on the held-out images (rows: true class, columns: predicted)"),
                      new ReportImage(TourContext.Relative(Id, "loss.png"), "Training loss")],
        };
    }
}
