using SharpVision.Nn;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// Binary edge maps as ControlNet conditions, and how well two edge maps agree (control adherence).
/// Edges: Sobel gradient magnitude of the image mapped to [0, 1], thresholded. With intensities in [0, 1] a vertical step
/// of height h gives magnitude 4h at the pixels on either side of it, so the default threshold 1.0 marks steps of a
/// quarter of the range or more: the outline of a Fashion-MNIST garment against its black background and its strongest
/// inner folds, not its texture. The image border is replicated, so it makes no edge of its own.
/// </summary>
public static class EdgeMaps
{
    /// <summary>Sobel magnitude above which a pixel is an edge (intensities in [0, 1]).</summary>
    public const double DefaultThreshold = 1.0;

    /// <summary>Sobel gradient magnitude.</summary>
    /// <param name="images">(B, 1, H, W) in [−1, 1] (the diffusion model range).</param>
    /// <returns>(B, 1, H, W) float32, |∇| of the image mapped to [0, 1].</returns>
    /// <exception cref="ArgumentException">Not (B, 1, H, W).</exception>
    public static Tensor SobelMagnitude(Tensor images)
    {
        Shapes.RequireRank(images, 4, "(B, 1, H, W)", nameof(images));
        Shapes.RequireDim(images, 1, 1, "(B, 1, H, W)", nameof(images));
        using var scope = torch.NewDisposeScope();
        var x = (images.to(ScalarType.Float32) + 1) / 2; // [0, 1]
        x = nn.functional.pad(x, [1, 1, 1, 1], PaddingModes.Replicate); // (B, 1, H+2, W+2)
        var kx = torch.tensor(new float[] { -1, 0, 1, -2, 0, 2, -1, 0, 1 }, [1, 1, 3, 3], device: x.device);
        var ky = kx.transpose(2, 3); // the vertical-derivative kernel
        var gx = nn.functional.conv2d(x, kx);
        var gy = nn.functional.conv2d(x, ky);
        return (gx * gx + gy * gy).sqrt().MoveToOuterDisposeScope();
    }

    /// <summary>Binary edge map: 1 where the Sobel magnitude exceeds <paramref name="threshold"/>.</summary>
    /// <param name="images">(B, 1, H, W) in [−1, 1].</param>
    /// <returns>(B, 1, H, W) float32 in {0, 1}.</returns>
    public static Tensor Compute(Tensor images, double threshold = DefaultThreshold)
    {
        if (!(threshold > 0)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "edge threshold must be positive");
        using var scope = torch.NewDisposeScope();
        return (SobelMagnitude(images) > threshold).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The condition image of a ControlNet: the edge map, enlarged (nearest neighbour) by the conditioning embedding's
    /// downsample factor.</summary>
    /// <param name="images">(B, 1, H, W) in [−1, 1].</param>
    /// <param name="factor"><see cref="ControlNetConditioningEmbedding.DownsampleFactor"/> (1: the sample's size).</param>
    /// <returns>(B, 1, H·factor, W·factor) in {0, 1}, float32.</returns>
    public static Tensor Condition(Tensor images, int factor = 1, double threshold = DefaultThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        var edges = Compute(images, threshold);
        if (factor == 1) return edges;
        using var scope = torch.NewDisposeScope();
        var larger = nn.functional.interpolate(edges, scale_factor: [(double)factor, factor], mode: InterpolationMode.Nearest); // (B, 1, H·f, W·f)
        edges.Dispose();
        return larger.MoveToOuterDisposeScope();
    }

    /// <summary>Intersection over union of edge pixels, exact (no tolerance). Two empty maps agree fully (1).</summary>
    /// <param name="predicted">(B, 1, H, W) in {0, 1}, e.g. the edges of generated images.</param>
    /// <param name="target">(B, 1, H, W) in {0, 1}, e.g. the condition.</param>
    /// <returns>(B) float32 per image.</returns>
    public static Tensor Iou(Tensor predicted, Tensor target)
    {
        RequirePair(predicted, target);
        using var scope = torch.NewDisposeScope();
        var p = predicted > 0.5;
        var t = target > 0.5;
        var inter = (p & t).flatten(1).sum(1).to(ScalarType.Float32); // (B)
        var union = (p | t).flatten(1).sum(1).to(ScalarType.Float32);
        return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// F1 of edge pixels with a tolerance, as edge-detection benchmarks score boundaries: a predicted edge pixel is correct
    /// when a target edge lies within <paramref name="tolerance"/> pixels (Chebyshev distance, by max-pool dilation), and a
    /// target edge pixel is found when a predicted one does. Precision and recall are those fractions; F1 their harmonic
    /// mean. Tolerance 0 makes F1 the Dice coefficient. Two empty maps give 1; one empty map gives 0.
    /// </summary>
    /// <param name="predicted">(B, 1, H, W) in {0, 1}.</param>
    /// <param name="target">(B, 1, H, W) in {0, 1}.</param>
    /// <param name="tolerance">Pixels (default 1: edges one pixel off still count, since a Sobel edge is two pixels wide and
    /// a generated outline can shift by one).</param>
    /// <returns>(B) float32 per image.</returns>
    public static Tensor F1(Tensor predicted, Tensor target, int tolerance = 1)
    {
        RequirePair(predicted, target);
        ArgumentOutOfRangeException.ThrowIfNegative(tolerance);
        using var scope = torch.NewDisposeScope();
        var p = (predicted > 0.5).to(ScalarType.Float32);
        var t = (target > 0.5).to(ScalarType.Float32);
        var near = (Tensor m) => tolerance == 0 ? m : nn.functional.max_pool2d(m, 2 * tolerance + 1, stride: 1, padding: tolerance);
        var pCount = p.flatten(1).sum(1); // (B)
        var tCount = t.flatten(1).sum(1);
        var precision = (p * near(t)).flatten(1).sum(1) / pCount.clamp_min(1);
        var recall = (t * near(p)).flatten(1).sum(1) / tCount.clamp_min(1);
        var f1 = 2 * precision * recall / (precision + recall).clamp_min(1e-12);
        var bothEmpty = (pCount == 0) & (tCount == 0);
        return torch.where(bothEmpty, torch.ones_like(f1), f1).MoveToOuterDisposeScope();
    }

    static void RequirePair(Tensor predicted, Tensor target)
    {
        Shapes.RequireRank(predicted, 4, "(B, 1, H, W)", nameof(predicted));
        if (!predicted.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"target must have the shape of predicted {Shapes.Format(predicted)}; got {Shapes.Format(target)}", nameof(target));
    }
}
