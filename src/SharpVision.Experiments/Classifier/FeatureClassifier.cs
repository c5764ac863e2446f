using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;

namespace SharpVision.Experiments.Classifier;

/// <summary>
/// The Fashion-MNIST classifier whose 128-d penultimate features (<see cref="FashionClassifier.Features"/>) define
/// FD-FMNIST: a <see cref="FashionClassifier"/> with batch normalization, trained with SharpVision's cross-entropy
/// (<see cref="ClassifierTrainer"/>). Saved as <c>classifier.safetensors</c> + <c>classifier.json</c> (accuracy, images).
/// </summary>
public sealed class FeatureClassifier : IDisposable
{
    const string WeightsFile = "classifier.safetensors", InfoFile = "classifier.json";

    /// <summary>The network (eval mode).</summary>
    public FashionClassifier Model { get; }

    /// <summary>Test accuracy measured when it was trained (or loaded from its info file).</summary>
    public double TestAccuracy { get; }

    FeatureClassifier(FashionClassifier model, double accuracy)
    {
        Model = model;
        TestAccuracy = accuracy;
        Model.eval();
    }

    /// <summary>Trains on <paramref name="train"/> (SGD, batch 64, lr 0.05, <paramref name="images"/> images seen) and measures <paramref name="test"/> accuracy.</summary>
    public static FeatureClassifier Train(LabeledImages train, LabeledImages test, int images = 32_000, int seed = 0, Action<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        torch.manual_seed(seed);
        var model = FashionClassifier.WithBatchNorm();
        ClassifierTrainer.Train(model, train, new ClassifierTrainingOptions(BatchSize: 64, Images: images, LearningRate: 0.05, Seed: seed), progress);
        var accuracy = ClassifierTrainer.Evaluate(model, test).Accuracy;
        return new FeatureClassifier(model, accuracy);
    }

    /// <summary>Whether <paramref name="directory"/> holds a saved classifier.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, WeightsFile));

    /// <summary>Loads a classifier saved by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">The weights file is missing.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the network.</exception>
    public static FeatureClassifier Load(string directory)
    {
        var weights = Path.Combine(directory, WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"classifier weights not found: {weights}", weights);
        var model = FashionClassifier.WithBatchNorm();
        var sd = StateDict.LoadSafetensors(weights);
        try { StateDict.LoadInto(model, sd, strict: true, source: weights); }
        finally { foreach (var t in sd.Values) t.Dispose(); }
        double accuracy = double.NaN;
        var info = Path.Combine(directory, InfoFile);
        if (File.Exists(info) && JsonNode.Parse(File.ReadAllText(info))?["test_accuracy"] is JsonNode a) accuracy = a.GetValue<double>();
        return new FeatureClassifier(model, accuracy);
    }

    /// <summary>Writes the weights and the accuracy into <paramref name="directory"/>, each file atomically.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        StateDict.SaveSafetensors(Model.state_dict(), Path.Combine(directory, WeightsFile));
        var info = new JsonObject { ["test_accuracy"] = TestAccuracy, ["network"] = "FashionClassifier with BatchNorm2d", ["features"] = FashionClassifier.FeatureSize };
        AtomicFile.WriteAllText(Path.Combine(directory, InfoFile), info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Accuracy on <paramref name="test"/>.</summary>
    public double Accuracy(LabeledImages test) => ClassifierTrainer.Evaluate(Model, test).Accuracy;

    /// <summary>Penultimate features in batches.</summary>
    /// <param name="images">(N, 1, 28, 28) in [0, 1].</param>
    /// <returns>(N, 128) float32.</returns>
    public Tensor Features(Tensor images, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batchSize)
            parts.Add(Model.Features(images.narrow(0, start, Math.Min(batchSize, images.shape[0] - start)).to(ScalarType.Float32)));
        return torch.cat(parts).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the network.</summary>
    public void Dispose() => Model.Dispose();

    /// <summary>Accuracy as a percentage with one decimal, invariant culture.</summary>
    public override string ToString() => TestAccuracy.ToString("P1", CultureInfo.InvariantCulture);
}
