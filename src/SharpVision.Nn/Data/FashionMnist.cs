namespace SharpVision.Nn.Data;

/// <summary>Greyscale 28×28 images with class labels, as bytes (what the IDX files hold).</summary>
/// <param name="Images">N×28×28 pixels, row-major, 0 = background.</param>
/// <param name="Labels">N class indices 0–9.</param>
public sealed record LabeledImages(byte[] Images, byte[] Labels, int Count, int Height, int Width)
{
    /// <summary>Images as a float tensor (N, 1, H, W) scaled to [0, 1].</summary>
    public Tensor ImagesTensor(ScalarType dtype = ScalarType.Float32) =>
        tensor(Images, [Count, 1, Height, Width]).to(dtype).div_(255.0);

    /// <summary>Labels as an int64 tensor (N).</summary>
    public Tensor LabelsTensor() => tensor(Labels.Select(b => (long)b).ToArray(), [Count]);

    /// <summary>The first <paramref name="count"/> items from <paramref name="start"/>.</summary>
    public LabeledImages Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count);
        int pixels = Height * Width;
        return new(Images.AsSpan(start * pixels, count * pixels).ToArray(), Labels.AsSpan(start, count).ToArray(), count, Height, Width);
    }
}

/// <summary>
/// Fashion-MNIST (Zalando, MIT licence; Xiao, Rasul and Vollgraf 2017). The 10,000-image test split
/// is embedded in this assembly so everything runs with no setup; <see cref="Load"/> reads the full
/// IDX files (e.g. Debian's <c>dataset-fashion-mnist</c> under /usr/share/datasets/fashion-mnist).
/// </summary>
public static class FashionMnist
{
    /// <summary>The ten class names, by label.</summary>
    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    static LabeledImages? embedded;

    /// <summary>The embedded 10,000-image test split.</summary>
    public static LabeledImages EmbeddedTest()
    {
        if (embedded is not null) return embedded;
        var asm = typeof(FashionMnist).Assembly;
        using var images = asm.GetManifestResourceStream("FashionMnist.t10k-images")!;
        using var labels = asm.GetManifestResourceStream("FashionMnist.t10k-labels")!;
        return embedded = Combine(IdxFile.ReadBytes(images, "embedded t10k-images"), IdxFile.ReadBytes(labels, "embedded t10k-labels"), "embedded t10k");
    }

    /// <summary>
    /// Reads a split from <paramref name="directory"/>: <c>train-images-idx3-ubyte[.gz]</c> and
    /// <c>train-labels-idx1-ubyte[.gz]</c> for "train", <c>t10k-*</c> for "test".
    /// </summary>
    /// <exception cref="IdxFormatException">A file is missing, truncated or malformed, or images and labels disagree.</exception>
    public static LabeledImages Load(string directory, string split)
    {
        var prefix = split switch
        {
            "train" => "train",
            "test" or "t10k" => "t10k",
            _ => throw new ArgumentException($"split must be 'train' or 'test'; got '{split}'", nameof(split)),
        };
        if (!Directory.Exists(directory)) throw new IdxFormatException($"{directory}: data directory not found");
        string Find(string stem)
        {
            foreach (var candidate in new[] { stem + ".gz", stem })
            {
                var p = Path.Combine(directory, candidate);
                if (File.Exists(p)) return p;
            }
            throw new IdxFormatException($"{Path.Combine(directory, stem)}[.gz]: file not found");
        }
        var imagesPath = Find($"{prefix}-images-idx3-ubyte");
        var labelsPath = Find($"{prefix}-labels-idx1-ubyte");
        return Combine(IdxFile.ReadBytes(imagesPath), IdxFile.ReadBytes(labelsPath), directory);
    }

    static LabeledImages Combine((int[] Dims, byte[] Data) images, (int[] Dims, byte[] Data) labels, string name)
    {
        if (images.Dims.Length != 3) throw new IdxFormatException($"{name}: images must have 3 dimensions (N, H, W); got {images.Dims.Length}");
        if (labels.Dims.Length != 1) throw new IdxFormatException($"{name}: labels must have 1 dimension (N); got {labels.Dims.Length}");
        if (images.Dims[0] != labels.Dims[0]) throw new IdxFormatException($"{name}: {images.Dims[0]} images but {labels.Dims[0]} labels");
        if (labels.Data.Any(l => l > 9)) throw new IdxFormatException($"{name}: label outside 0–9");
        return new LabeledImages(images.Data, labels.Data, images.Dims[0], images.Dims[1], images.Dims[2]);
    }
}
