using System.Globalization;
using SharpVision.Nn;
using SharpVision.Nn.Checkpoints;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// What a saved image embedding (<see cref="SamPredictor.SaveImageEmbedding"/>) was computed with: the
/// model's type and encoder size, its input side, the image's resized and original sizes and the
/// embedding's shape. Stored as the safetensors <c>__metadata__</c> next to the tensor
/// <c>image_embedding</c>, so a later session can check the file fits its model before answering prompts.
/// </summary>
/// <param name="ModelType">"vit_b", "vit_t", ... or "custom".</param>
/// <param name="ImageEncoder">The encoder's size (<see cref="SamConfig.DescribeEncoder"/>).</param>
/// <param name="ImageSize">The model's square input side.</param>
/// <param name="InputSize">(H, W) of the resized image before padding.</param>
/// <param name="OriginalSize">(H, W) of the image given to the predictor.</param>
/// <param name="EmbeddingShape">(1, C, h, w) of the embedding.</param>
public sealed record SamImageEmbedding(string ModelType, string ImageEncoder, int ImageSize, (int H, int W) InputSize, (int H, int W) OriginalSize,
    IReadOnlyList<long> EmbeddingShape)
{
    /// <summary>The safetensors tensor name of the embedding.</summary>
    public const string TensorName = "image_embedding";
    /// <summary>The <c>format</c> metadata value that marks an embedding file.</summary>
    public const string Format = "sharpvision.sam_image_embedding.v1";

    /// <summary>The embedding a model of <paramref name="config"/> produces for an image of these sizes.</summary>
    public static SamImageEmbedding For(SamConfig config, (int H, int W) inputSize, (int H, int W) originalSize)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new(config.ModelType ?? "custom", config.DescribeEncoder(), config.ImageSize, inputSize, originalSize,
            [1, config.PromptEmbedDim, config.ImageEmbeddingSize, config.ImageEmbeddingSize]);
    }

    /// <summary>Reads the description from an embedding file's header (not the tensor).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a safetensors file, or not a SAM image embedding.</exception>
    public static SamImageEmbedding Read(string path)
    {
        var meta = StateDict.ReadSafetensorsMetadata(path);
        string Get(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{path} is not a SAM image embedding file (its metadata has no '{key}'; write one with segment --embed)");
        if (Get("format") != Format) throw new InvalidDataException($"{path} is not a SAM image embedding file (format '{meta["format"]}', expected '{Format}')");
        try
        {
            var shape = Get("embedding_shape").Split(',').Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
            return new(Get("model_type"), Get("image_encoder"), int.Parse(Get("image_size"), CultureInfo.InvariantCulture),
                Pair(Get("input_size")), Pair(Get("original_size")), shape);
        }
        catch (FormatException e) { throw new InvalidDataException($"{path}: malformed SAM image embedding metadata: {e.Message}", e); }
    }

    static (int, int) Pair(string s)
    {
        var parts = s.Split(',');
        if (parts.Length != 2) throw new FormatException($"'{s}' is not H,W");
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>The metadata pairs written to the file.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() => new Dictionary<string, string>
    {
        ["format"] = Format,
        ["model_type"] = ModelType,
        ["image_encoder"] = ImageEncoder,
        ["image_size"] = ImageSize.ToString(CultureInfo.InvariantCulture),
        ["input_size"] = string.Create(CultureInfo.InvariantCulture, $"{InputSize.H},{InputSize.W}"),
        ["original_size"] = string.Create(CultureInfo.InvariantCulture, $"{OriginalSize.H},{OriginalSize.W}"),
        ["embedding_shape"] = string.Join(',', EmbeddingShape.Select(d => d.ToString(CultureInfo.InvariantCulture))),
    };

    /// <summary>Throws unless a model of <paramref name="config"/> produced this embedding (same type, encoder, input side and embedding shape).</summary>
    /// <param name="source">Names the file in the message.</param>
    /// <exception cref="InvalidDataException">The embedding is of another model or image size; the message names both.</exception>
    public void CheckMatches(SamConfig config, string source)
    {
        var mine = For(config, InputSize, OriginalSize);
        if (mine.ModelType != ModelType || mine.ImageEncoder != ImageEncoder || mine.ImageSize != ImageSize || !mine.EmbeddingShape.SequenceEqual(EmbeddingShape))
            throw new InvalidDataException($"{source} holds the image embedding of a {Describe()}; this model is {mine.Describe()}");
        var expected = ResizeLongestSide.GetPreprocessShape(OriginalSize.H, OriginalSize.W, ImageSize);
        if (expected != InputSize)
            throw new InvalidDataException($"{source}: input_size ({InputSize.H}, {InputSize.W}) is not the resize of original_size ({OriginalSize.H}, {OriginalSize.W}) to {ImageSize}, ({expected.H}, {expected.W})");
    }

    string Describe() => $"{ModelType} model ({ImageEncoder}; image_size {ImageSize}, embedding {Shapes.Format(EmbeddingShape.ToArray())})";

    /// <summary>Writes <paramref name="embedding"/> (1, C, h, w) and this description to <paramref name="path"/> (safetensors, atomically).</summary>
    /// <exception cref="ArgumentException">The tensor's shape is not <see cref="EmbeddingShape"/>.</exception>
    public void Save(Tensor embedding, string path)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        if (!embedding.shape.SequenceEqual(EmbeddingShape))
            throw new ArgumentException($"embedding must be {Shapes.Format(EmbeddingShape.ToArray())}; got {Shapes.Format(embedding)}", nameof(embedding));
        StateDict.SaveSafetensors(new Dictionary<string, Tensor> { [TensorName] = embedding }, path, ToMetadata());
    }

    /// <summary>Reads the embedding tensor of a file whose description is this one.</summary>
    /// <exception cref="InvalidDataException">The file lacks the tensor or its shape differs from the metadata.</exception>
    public Tensor LoadTensor(string path)
    {
        var dict = StateDict.LoadSafetensors(path);
        if (!dict.Remove(TensorName, out var t)) throw new InvalidDataException($"{path} has no '{TensorName}' tensor");
        foreach (var other in dict.Values) other.Dispose();
        if (!t.shape.SequenceEqual(EmbeddingShape))
        {
            var got = Shapes.Format(t);
            t.Dispose();
            throw new InvalidDataException($"{path}: '{TensorName}' is {got} but its metadata says {Shapes.Format(EmbeddingShape.ToArray())}");
        }
        return t;
    }
}
