using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Sizes of MobileSAM's TinyViT image encoder: the arguments of tiny_vit_sam.py <c>TinyViT</c> under its
/// own names, with the values of build_sam.py <c>build_sam_vit_t</c> as defaults. The input side and
/// channels come from <see cref="SamConfig"/>; unknown keys survive a round trip.
/// </summary>
public sealed record TinyViTConfig
{
    /// <summary>Width of each stage (the first is convolutional).</summary>
    [JsonPropertyName("embed_dims")] public IReadOnlyList<int> EmbedDims { get; init; } = [64, 128, 160, 320];
    /// <summary>Blocks per stage.</summary>
    [JsonPropertyName("depths")] public IReadOnlyList<int> Depths { get; init; } = [2, 2, 6, 2];
    /// <summary>Attention heads per stage (unused for the first).</summary>
    [JsonPropertyName("num_heads")] public IReadOnlyList<int> NumHeads { get; init; } = [2, 4, 5, 10];
    /// <summary>Attention window side per stage (unused for the first).</summary>
    [JsonPropertyName("window_sizes")] public IReadOnlyList<int> WindowSizes { get; init; } = [7, 7, 14, 7];
    /// <summary>MLP width as a multiple of the stage width.</summary>
    [JsonPropertyName("mlp_ratio")] public double MlpRatio { get; init; } = 4.0;
    /// <summary>MBConv hidden channels as a multiple of the first stage's width.</summary>
    [JsonPropertyName("mbconv_expand_ratio")] public double MbconvExpandRatio { get; init; } = 4.0;
    /// <summary>Kernel side of the blocks' depthwise convolution.</summary>
    [JsonPropertyName("local_conv_size")] public int LocalConvSize { get; init; } = 3;
    /// <summary>Classes of the (unused) ImageNet head <c>head</c>, kept so the official keys load.</summary>
    [JsonPropertyName("num_classes")] public int NumClasses { get; init; } = 1000;

    /// <summary>Keys this record does not know, kept for serialisation.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Whether the sizes equal <paramref name="other"/>'s.</summary>
    public bool SameSize(TinyViTConfig other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EmbedDims.SequenceEqual(other.EmbedDims) && Depths.SequenceEqual(other.Depths) && NumHeads.SequenceEqual(other.NumHeads) &&
            WindowSizes.SequenceEqual(other.WindowSizes) && MlpRatio == other.MlpRatio && MbconvExpandRatio == other.MbconvExpandRatio &&
            LocalConvSize == other.LocalConvSize && NumClasses == other.NumClasses;
    }

    /// <summary>"embed_dims [64, 128, 160, 320], depths [2, 2, 6, 2]": what error messages call this size.</summary>
    public string Describe() => $"TinyViT embed_dims [{string.Join(", ", EmbedDims)}], depths [{string.Join(", ", Depths)}]";

    /// <summary>Throws unless the sizes can build an encoder.</summary>
    /// <exception cref="InvalidDataException">Lists of different lengths, a size that is not positive, or heads that do not divide a width.</exception>
    public void Validate()
    {
        int n = EmbedDims.Count;
        if (n == 0) throw new InvalidDataException("TinyViT config embed_dims must not be empty");
        foreach (var (list, name) in new[] { (Depths, "depths"), (NumHeads, "num_heads"), (WindowSizes, "window_sizes") })
        {
            if (list.Count != n) throw new InvalidDataException($"TinyViT config {name} must have one entry per stage ({n}); got {list.Count}");
            if (list.Any(v => v <= 0)) throw new InvalidDataException($"TinyViT config {name} must be positive; got [{string.Join(", ", list)}]");
        }
        if (EmbedDims.Any(v => v <= 0 || v % 2 != 0)) throw new InvalidDataException($"TinyViT config embed_dims must be positive and even; got [{string.Join(", ", EmbedDims)}]");
        for (int i = 1; i < n; i++)
        {
            if (EmbedDims[i] % NumHeads[i] != 0)
                throw new InvalidDataException($"TinyViT config num_heads[{i}] ({NumHeads[i]}) must divide embed_dims[{i}] ({EmbedDims[i]})");
        }
        if (!(MlpRatio > 0) || !(MbconvExpandRatio > 0)) throw new InvalidDataException($"TinyViT config mlp_ratio and mbconv_expand_ratio must be positive; got {MlpRatio}, {MbconvExpandRatio}");
        if (LocalConvSize <= 0 || LocalConvSize % 2 == 0) throw new InvalidDataException($"TinyViT config local_conv_size must be odd and positive; got {LocalConvSize}");
        if (NumClasses <= 0) throw new InvalidDataException($"TinyViT config num_classes must be positive; got {NumClasses}");
    }
}
