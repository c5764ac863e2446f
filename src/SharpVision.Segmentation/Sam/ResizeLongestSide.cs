using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Resizes images so their longest side is <see cref="TargetLength"/>, and maps point and box
/// coordinates the same way. Follows segment-anything utils/transforms.py <c>ResizeLongestSide</c>;
/// images are resized with <see cref="PilResize"/> (Pillow's bilinear resize), coordinates are scaled in
/// float64 as the reference's numpy path does (the predictor then casts them to the model's dtype).
/// </summary>
public sealed class ResizeLongestSide
{
    /// <summary>The length of the longest side after resizing.</summary>
    public int TargetLength { get; }

    /// <param name="targetLength">Length of the longest side after resizing.</param>
    public ResizeLongestSide(int targetLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetLength);
        TargetLength = targetLength;
    }

    /// <summary>The (H, W) an (oldH, oldW) image is resized to: the scale is longSide / max(oldH, oldW), sides rounded half up.</summary>
    public static (int H, int W) GetPreprocessShape(int oldH, int oldW, int longSideLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldH);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldW);
        double scale = longSideLength * 1.0 / Math.Max(oldH, oldW);
        double newH = oldH * scale, newW = oldW * scale;
        return ((int)(newH + 0.5), (int)(newW + 0.5));
    }

    /// <summary>Resizes an interleaved uint8 image (HWC) so its longest side is <see cref="TargetLength"/>.</summary>
    /// <param name="image">(height, width, channels) bytes.</param>
    /// <returns>The resized bytes and their (H, W).</returns>
    public (byte[] Image, int H, int W) ApplyImage(ReadOnlySpan<byte> image, int height, int width, int channels = 3)
    {
        var (h, w) = GetPreprocessShape(height, width, TargetLength);
        return (PilResize.Bilinear(image, height, width, channels, h, w), h, w);
    }

    /// <summary>Scales (x, y) pixel coordinates of an image of <paramref name="originalSize"/> to the resized frame.</summary>
    /// <param name="coords">(..., 2) as (x, y), any real dtype.</param>
    /// <returns>(..., 2) float64.</returns>
    public Tensor ApplyCoords(Tensor coords, (int H, int W) originalSize)
    {
        if (coords.dim() < 1 || coords.shape[^1] != 2)
            throw new ArgumentException($"coords must be (..., 2); got {Nn.Shapes.Format(coords)}", nameof(coords));
        var (newH, newW) = GetPreprocessShape(originalSize.H, originalSize.W, TargetLength);
        using var scope = NewDisposeScope();
        var c = coords.to(ScalarType.Float64);
        var scaled = stack([c.select(-1, 0) * ((double)newW / originalSize.W), c.select(-1, 1) * ((double)newH / originalSize.H)], -1);
        return scaled.MoveToOuterDisposeScope();
    }

    /// <summary>Scales (x0, y0, x1, y1) boxes of an image of <paramref name="originalSize"/> to the resized frame.</summary>
    /// <param name="boxes">(B, 4), any real dtype.</param>
    /// <returns>(B, 4) float64.</returns>
    public Tensor ApplyBoxes(Tensor boxes, (int H, int W) originalSize)
    {
        if (boxes.dim() < 1 || boxes.shape[^1] != 4)
            throw new ArgumentException($"boxes must be (B, 4); got {Nn.Shapes.Format(boxes)}", nameof(boxes));
        using var scope = NewDisposeScope();
        return ApplyCoords(boxes.reshape(-1, 2, 2), originalSize).reshape(-1, 4).MoveToOuterDisposeScope();
    }
}
