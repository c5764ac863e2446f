using SharpVision.Cli.CommandLine;
using SharpVision.Nn.Data;

namespace SharpVision.Cli.Commands;

/// <summary>Data selection shared by the training commands.</summary>
public static class Common
{
    /// <summary>
    /// Train and test images: with <c>--data DIR</c> the full Fashion-MNIST files (train and test splits);
    /// otherwise the embedded 10,000-image test split, divided into its first <paramref name="embeddedTrain"/>
    /// images for training and the rest for testing.
    /// </summary>
    public static (LabeledImages Train, LabeledImages Test, string Description) FashionMnistSplits(Arguments args, int embeddedTrain = 8000)
    {
        var dir = args.Option("data");
        if (dir is not null)
        {
            var train = FashionMnist.Load(dir, "train");
            var test = FashionMnist.Load(dir, "test");
            return (train, test, $"Fashion-MNIST from {dir}: {train.Count:N0} train / {test.Count:N0} test");
        }
        var all = FashionMnist.EmbeddedTest();
        return (all.Slice(0, embeddedTrain), all.Slice(embeddedTrain, all.Count - embeddedTrain),
            $"embedded Fashion-MNIST test split: {embeddedTrain:N0} train / {all.Count - embeddedTrain:N0} test");
    }

    /// <summary>Parses a comma-separated list of positive integers for <paramref name="option"/>.</summary>
    public static int[] PositiveInts(Arguments args, string option, int[] fallback)
    {
        var text = args.Option(option);
        if (text is null) return fallback;
        var values = Arguments.IntList(text, "--" + option);
        if (values.Length == 0 || values.Any(v => v <= 0)) throw new UsageException($"--{option} must list positive integers; got '{text}'");
        return values;
    }
}
