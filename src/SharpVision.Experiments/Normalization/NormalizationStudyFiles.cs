using System.Globalization;
using System.Text;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Experiments.Normalization;

/// <summary>The chart and labels of the normalization study (<c>norms</c> and the tour's normalization section).</summary>
public static class NormalizationStudyFiles
{
    /// <summary>Test accuracy against batch size (log-2 axis), one line per layer.</summary>
    public static void Chart(string path, IReadOnlyList<NormalizationRun> runs, NormalizationStudyOptions options) =>
        Charts.Lines(path, $"Fashion-MNIST test accuracy vs batch size ({options.Images:N0} images per run)", "batch size", "test accuracy",
            options.Kinds.Select(k => new Series(Short(k), options.BatchSizes.Select(b => Math.Log2(b)).ToArray(),
                options.BatchSizes.Select(b => runs.Single(r => r.Kind == k && r.BatchSize == b).TestAccuracy).ToArray())).ToList(),
            options.BatchSizes.Select(b => (Math.Log2(b), b.ToString(CultureInfo.InvariantCulture))).ToArray());

    /// <summary>One row per run: layer, batch size, test accuracy, final training loss and seconds.</summary>
    public static void Csv(string path, IReadOnlyList<NormalizationRun> runs)
    {
        var csv = new StringBuilder("layer,batch_size,test_accuracy,final_train_loss,seconds\n");
        foreach (var r in runs)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{Short(r.Kind)},{r.BatchSize},{r.TestAccuracy:F4},{r.FinalTrainLoss:F4},{r.Elapsed.TotalSeconds:F1}"));
        AtomicFile.WriteAllText(path, csv.ToString());
    }

    /// <summary>The layer's usual abbreviation (BN, GN, LN, IN, SN).</summary>
    public static string Short(NormKind k) => k switch
    {
        NormKind.BatchNorm => "BN", NormKind.GroupNorm => "GN", NormKind.LayerNorm => "LN",
        NormKind.InstanceNorm => "IN", _ => "SN",
    };

    /// <summary>SN's softmax importance weights as "IN a LN b BN c".</summary>
    public static string Triple(double[] w) => string.Create(CultureInfo.InvariantCulture, $"IN {w[0]:F2} LN {w[1]:F2} BN {w[2]:F2}");
}
