using System.Globalization;
using System.Text.Json.Serialization;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;

namespace SharpVision.Experiments.Classifier;

/// <summary>Options of <see cref="CrossEntropyExperiment"/>.</summary>
/// <param name="Images">Training images the classifier sees (batch 64, SGD; see <see cref="FeatureClassifier.Train"/>).</param>
/// <param name="Seed">Seeds the weights and the data order.</param>
public sealed record CrossEntropyExperimentOptions(int Images = 48_000, int Seed = 0);

/// <summary>What <see cref="CrossEntropyExperiment"/> measured and wrote. The JSON names (snake_case) are the report's.</summary>
/// <param name="TestAccuracy">Accuracy on the held-out images.</param>
/// <param name="TestLoss">Mean cross-entropy on the held-out images.</param>
/// <param name="TestImages">Held-out images.</param>
/// <param name="TrainImagesSeen">Training images seen.</param>
/// <param name="PerClassAccuracy">Accuracy per class, keyed by the Fashion-MNIST class name, in class order.</param>
/// <param name="ClassifierFolder">The saved classifier (a <see cref="FeatureClassifier"/> folder).</param>
/// <param name="ConfusionChart">The confusion matrix (PNG).</param>
/// <param name="LossChart">The smoothed training loss (PNG).</param>
public sealed record CrossEntropyResult(
    double TestAccuracy, double TestLoss, int TestImages, int TrainImagesSeen, IReadOnlyDictionary<string, double> PerClassAccuracy,
    [property: JsonIgnore] string ClassifierFolder, [property: JsonIgnore] string ConfusionChart, [property: JsonIgnore] string LossChart)
    : IExperimentResult
{
    /// <summary>The class the classifier gets right least often, and its accuracy.</summary>
    [JsonIgnore] public KeyValuePair<string, double> WeakestClass => PerClassAccuracy.MinBy(kv => kv.Value);

    /// <inheritdoc/>
    [JsonIgnore] public IReadOnlyList<string> Files => [ClassifierFolder, ConfusionChart, LossChart];
}

/// <summary>
/// The cross-entropy experiment: the Fashion-MNIST classifier (<see cref="FashionClassifier"/> with BN) trained with the
/// project's own softmax cross-entropy, then tested; its confusion matrix and loss curve. The saved classifier is the
/// feature extractor of FD-FMNIST in the diffusion and ControlNet experiments.
/// </summary>
public static class CrossEntropyExperiment
{
    /// <summary>The classifier's folder under <paramref name="outDir"/> (where <see cref="Run"/> saves it).</summary>
    public static string ClassifierFolder(string outDir) => Path.Combine(outDir, "classifier");

    /// <summary>Trains, saves and tests the classifier, and writes its charts into <paramref name="outDir"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="CrossEntropyExperimentOptions.Images"/> is not positive.</exception>
    public static CrossEntropyResult Run(LabeledImages train, LabeledImages test, string outDir, CrossEntropyExperimentOptions options,
        IProgress<ExperimentProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Images);
        Directory.CreateDirectory(outDir);
        int images = options.Images;
        var curve = new List<(double Images, double Loss)>();
        double smoothed = double.NaN;
        using var classifier = FeatureClassifier.Train(train, test, images, options.Seed, progress: p =>
        {
            smoothed = double.IsNaN(smoothed) ? p.Loss : 0.98 * smoothed + 0.02 * p.Loss;
            if (p.Step % 10 == 0 || p.Step == p.Steps) curve.Add((p.ImagesSeen, smoothed));
            progress?.Report(new(p.ImagesSeen / (double)images, string.Create(CultureInfo.InvariantCulture, $"{p.ImagesSeen:N0} images, loss {smoothed:F3}")));
        });
        var folder = ClassifierFolder(outDir);
        classifier.Save(folder);
        var eval = ClassifierTrainer.Evaluate(classifier.Model, test);
        var confusion = Path.Combine(outDir, "confusion.png");
        var loss = Path.Combine(outDir, "loss.png");
        Charts.Confusion(confusion, string.Create(CultureInfo.InvariantCulture, $"Test confusion matrix ({eval.Accuracy:P1} accurate)"),
            eval.Confusion, FashionMnist.ClassNames);
        Charts.Lines(loss, "Training loss (cross-entropy, smoothed)", "images seen", "loss",
            [new Series("train loss", curve.Select(c => c.Images).ToArray(), curve.Select(c => c.Loss).ToArray())]);

        int classes = FashionMnist.ClassNames.Count;
        var perClass = new Dictionary<string, double>();
        for (int c = 0; c < classes; c++)
        {
            double row = Enumerable.Range(0, classes).Sum(j => eval.Confusion[c, j]);
            perClass[FashionMnist.ClassNames[c]] = row > 0 ? eval.Confusion[c, c] / row : 0;
        }
        return new CrossEntropyResult(eval.Accuracy, eval.Loss, test.Count, images, perClass, folder, confusion, loss);
    }
}
