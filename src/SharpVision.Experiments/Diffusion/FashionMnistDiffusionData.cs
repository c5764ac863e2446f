using SharpVision.Diffusion.Models;
using SharpVision.Nn;
using SharpVision.Nn.Data;

namespace SharpVision.Experiments.Diffusion;

/// <summary>
/// Fashion-MNIST as diffusion training data: 28×28 images padded to 32×32 (so a UNet can halve the size three times)
/// with background value −1, and pixels scaled from [0, 255] to [−1, 1]; and back, for the classifier.
/// </summary>
public static class FashionMnistDiffusionData
{
    /// <summary>Side of the padded images.</summary>
    public const int PaddedSize = 32;

    /// <summary>Images in the diffusion range, padded with −1 (the background colour) to <paramref name="size"/>.</summary>
    /// <returns>(N, 1, size, size) float32 in [−1, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="size"/> smaller than the images.</exception>
    public static Tensor ToModelRange(LabeledImages data, int size = PaddedSize)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var scope = torch.NewDisposeScope();
        return Pad(data.ImagesTensor() * 2 - 1, size).MoveToOuterDisposeScope();
    }

    /// <summary>Centres images in a <paramref name="size"/>×<paramref name="size"/> canvas of −1.</summary>
    /// <param name="images">(N, C, H, W) in [−1, 1], H and W at most <paramref name="size"/>.</param>
    /// <returns>(N, C, size, size).</returns>
    public static Tensor Pad(Tensor images, int size)
    {
        Shapes.RequireRank(images, 4, "(N, C, H, W)", nameof(images));
        long h = images.shape[2], w = images.shape[3];
        if (h > size || w > size)
            throw new ArgumentException($"images must be at most {size}×{size} to pad; got {Shapes.Format(images)}", nameof(images));
        long top = (size - h) / 2, left = (size - w) / 2;
        return nn.functional.pad(images, [left, size - w - left, top, size - h - top], value: -1.0);
    }

    /// <summary>The centre <paramref name="height"/>×<paramref name="width"/> crop, mapped from [−1, 1] to [0, 1] and clamped
    /// (what <see cref="SharpVision.Experiments.Classifier.FashionClassifier"/> takes).</summary>
    /// <param name="images">(N, C, H, W) in [−1, 1].</param>
    /// <returns>(N, C, height, width) in [0, 1].</returns>
    public static Tensor ToClassifierRange(Tensor images, int height = 28, int width = 28)
    {
        Shapes.RequireRank(images, 4, "(N, C, H, W)", nameof(images));
        long h = images.shape[2], w = images.shape[3];
        if (h < height || w < width)
            throw new ArgumentException($"images must be at least {height}×{width}; got {Shapes.Format(images)}", nameof(images));
        using var scope = torch.NewDisposeScope();
        var crop = images.narrow(2, (h - height) / 2, height).narrow(3, (w - width) / 2, width); // (N, C, height, width)
        return ((crop + 1) / 2).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A small UNet2DModel for 32×32 greyscale Fashion-MNIST: one level per entry of <paramref name="channels"/>
    /// (resolution halves between levels), self-attention only at the lowest resolution, GroupNorm of 8 groups (or fewer
    /// when a width is not a multiple of 8). Class-conditional models get <c>num_class_embeds = 11</c>: classes 0–9 and
    /// the null class 10 (see <see cref="SharpVision.Diffusion.Pipelines.ClassifierFreeGuidance"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No levels, or a width that is not positive.</exception>
    public static UNet2DModelConfig ModelConfig(IReadOnlyList<int> channels, int layersPerBlock = 1, bool classConditional = false, int classes = 10)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0 || channels.Any(c => c <= 0))
            throw new ArgumentException($"channels must list positive widths, one per level; got [{string.Join(", ", channels)}]", nameof(channels));
        int groups = channels.Aggregate(8, Gcd);
        int last = channels[^1];
        int levels = channels.Count;
        return new UNet2DModelConfig
        {
            SampleSize = [PaddedSize], InChannels = 1, OutChannels = 1, BlockOutChannels = channels.ToArray(), LayersPerBlock = layersPerBlock,
            NormNumGroups = groups, AttentionHeadDim = last % 32 == 0 ? 32 : null,
            DownBlockTypes = Enumerable.Range(0, levels).Select(i => i == levels - 1 && levels > 1 ? DownBlockType.AttnDownBlock2D : DownBlockType.DownBlock2D).ToArray(),
            UpBlockTypes = Enumerable.Range(0, levels).Select(i => i == 0 && levels > 1 ? UpBlockType.AttnUpBlock2D : UpBlockType.UpBlock2D).ToArray(),
            NumClassEmbeds = classConditional ? classes + 1 : null,
        };
    }

    static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
