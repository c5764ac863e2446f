using System.CommandLine;
using SharpVision.Cli.CommandLine;
using SharpVision.Nn.Data;

namespace SharpVision.Cli.Commands;

/// <summary>Data selection shared by the training commands.</summary>
public static class Common
{
    /// <summary><c>--data DIR</c>, read by <see cref="FashionMnistSplits(ParseResult, int)"/>.</summary>
    public static readonly Option<string> Data = Opt.Text("--data", "DIR",
        "full Fashion-MNIST IDX files (train/t10k, gzip or not); default: the embedded test split, 8,000 train / 2,000 test");

    /// <summary><c>--limit N</c> of the training commands.</summary>
    public static readonly Option<int?> Limit = Opt.OptionalInt("--limit", "train on the first N images only", min: 1);

    /// <summary>
    /// Train and test images: with <c>--data DIR</c> the full Fashion-MNIST files (train and test splits);
    /// otherwise the embedded 10,000-image test split, divided into its first <paramref name="embeddedTrain"/>
    /// images for training and the rest for testing.
    /// </summary>
    public static (LabeledImages Train, LabeledImages Test, string Description) FashionMnistSplits(ParseResult args, int embeddedTrain = 8000) =>
        FashionMnistSplits(args.GetValue(Data), embeddedTrain);

    /// <summary>The splits of <see cref="FashionMnistSplits(ParseResult, int)"/> from the folder <paramref name="dir"/> (null: embedded).</summary>
    public static (LabeledImages Train, LabeledImages Test, string Description) FashionMnistSplits(string? dir, int embeddedTrain = 8000)
    {
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
}
