using SharpVision.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// The mask bookkeeping of SAM's automatic mask generator: point grids, crop boxes, stability scores,
/// mask bounding boxes and box non-maximum suppression. Follows segment-anything utils/amg.py (dca509f)
/// and torchvision's <c>nms</c>.
/// </summary>
public static class SamMaskUtils
{
    /// <summary>An n×n grid of cell centres in [0, 1]², x varying fastest: (n², 2) float64 (amg.py <c>build_point_grid</c>).</summary>
    public static double[,] BuildPointGrid(int nPerSide)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nPerSide);
        double offset = 1.0 / (2 * nPerSide);
        var side = new double[nPerSide];
        // numpy.linspace(offset, 1 - offset, n): start + i * step, the last point exactly the end
        double step = nPerSide > 1 ? (1 - offset - offset) / (nPerSide - 1) : 0;
        for (int i = 0; i < nPerSide; i++) side[i] = i == nPerSide - 1 && nPerSide > 1 ? 1 - offset : offset + i * step;
        var grid = new double[nPerSide * nPerSide, 2];
        for (int y = 0; y < nPerSide; y++)
            for (int x = 0; x < nPerSide; x++)
            {
                grid[y * nPerSide + x, 0] = side[x];
                grid[y * nPerSide + x, 1] = side[y];
            }
        return grid;
    }

    /// <summary>
    /// The crops the generator runs on: the whole image (layer 0), then for layer i a 2^i × 2^i grid of
    /// overlapping crops, as (x0, y0, x1, y1) boxes with their layer (amg.py <c>generate_crop_boxes</c>).
    /// </summary>
    public static IReadOnlyList<(int[] Box, int Layer)> GenerateCropBoxes((int H, int W) imageSize, int nLayers, double overlapRatio)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nLayers);
        var (h, w) = imageSize;
        var result = new List<(int[] Box, int Layer)> { ([0, 0, w, h], 0) };
        int shortSide = Math.Min(h, w);
        static int CropLength(int origLength, int nCrops, int overlap) => (int)Math.Ceiling((overlap * (nCrops - 1) + origLength) / (double)nCrops);
        for (int layer = 0; layer < nLayers; layer++)
        {
            int perSide = 1 << (layer + 1);
            int overlap = (int)(overlapRatio * shortSide * (2.0 / perSide));
            int cropW = CropLength(w, perSide, overlap), cropH = CropLength(h, perSide, overlap);
            // x0 outer, y0 inner, as itertools.product(x0s, y0s)
            for (int i = 0; i < perSide; i++)
                for (int j = 0; j < perSide; j++)
                {
                    int x0 = (cropW - overlap) * i, y0 = (cropH - overlap) * j;
                    result.Add(([x0, y0, Math.Min(x0 + cropW, w), Math.Min(y0 + cropH, h)], layer + 1));
                }
        }
        return result;
    }

    /// <summary>
    /// Stability of masks under a shift of the threshold: |logits > t + offset| / |logits > t − offset|
    /// (amg.py <c>calculate_stability_score</c>).
    /// </summary>
    /// <param name="masks">(N, H, W) logits.</param>
    /// <returns>(N) float32.</returns>
    public static Tensor StabilityScore(Tensor masks, double maskThreshold, double thresholdOffset)
    {
        Shapes.RequireRank(masks, 3, "(N, H, W)", nameof(masks));
        using var scope = NewDisposeScope();
        var intersections = masks.gt(maskThreshold + thresholdOffset).sum([-1, -2], type: ScalarType.Int32);
        var unions = masks.gt(maskThreshold - thresholdOffset).sum([-1, -2], type: ScalarType.Int32);
        return (intersections.to(ScalarType.Float32) / unions.to(ScalarType.Float32)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The inclusive bounding box (x0, y0, x1, y1) of each boolean mask; (0, 0, 0, 0) for an empty mask
    /// (amg.py <c>batched_mask_to_box</c>).
    /// </summary>
    /// <param name="masks">(N, H, W) bool.</param>
    /// <returns>(N, 4) int64.</returns>
    public static Tensor MaskToBox(Tensor masks)
    {
        Shapes.RequireRank(masks, 3, "(N, H, W)", nameof(masks));
        using var scope = NewDisposeScope();
        long h = masks.shape[1], w = masks.shape[2];
        var (top, bottom) = Extent(masks.any(-1), h);   // rows that hold a pixel: (N, H)
        var (left, right) = Extent(masks.any(-2), w);   // columns: (N, W)
        var empty = right.lt(left).logical_or(bottom.lt(top));
        var boxes = stack([left, top, right, bottom], -1) * empty.logical_not().unsqueeze(-1);
        return boxes.MoveToOuterDisposeScope();
    }

    /// <summary>The inclusive bounding box (x0, y0, x1, y1) of one row-major (H, W) mask; zeros when it is empty.</summary>
    public static int[] MaskToBox(bool[] mask, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(mask);
        int x0 = width, y0 = height, x1 = -1, y1 = -1;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                if (!mask[y * width + x]) continue;
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x);
                y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
            }
        return x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1, y1];
    }

    /// <summary>First and last index where <paramref name="present"/> (N, L) is true; (L, 0) when none is.</summary>
    static (Tensor First, Tensor Last) Extent(Tensor present, long length)
    {
        var coords = present.to(ScalarType.Int64) * arange(length, dtype: ScalarType.Int64, device: present.device).unsqueeze(0);
        var last = coords.max(-1).values;
        var first = (coords + length * present.logical_not().to(ScalarType.Int64)).min(-1).values;
        return (first, last);
    }

    /// <summary>
    /// Greedy non-maximum suppression: boxes in descending score order (stable for ties), each dropped when
    /// its IoU with a kept box exceeds <paramref name="iouThreshold"/> (torchvision <c>nms</c>).
    /// </summary>
    /// <param name="boxes">(N, 4) as (x0, y0, x1, y1).</param>
    /// <param name="scores">(N).</param>
    /// <returns>Indices of the kept boxes, highest score first.</returns>
    public static int[] Nms(Tensor boxes, Tensor scores, double iouThreshold)
    {
        Shapes.RequireRank(boxes, 2, "(N, 4)", nameof(boxes));
        Shapes.RequireDim(boxes, 1, 4, "(N, 4)", nameof(boxes));
        int n = (int)boxes.shape[0];
        if (scores.dim() != 1 || scores.shape[0] != n)
            throw new ArgumentException($"scores must be ({n}); got {Shapes.Format(scores)}", nameof(scores));
        using var scope = NewDisposeScope();
        var b = boxes.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var s = scores.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ToArray(); // LINQ ordering is stable
        var area = new float[n];
        for (int i = 0; i < n; i++) area[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
        var suppressed = new bool[n];
        var keep = new List<int>();
        for (int oi = 0; oi < n; oi++)
        {
            int i = order[oi];
            if (suppressed[i]) continue;
            keep.Add(i);
            for (int oj = oi + 1; oj < n; oj++)
            {
                int j = order[oj];
                if (suppressed[j]) continue;
                float xx1 = Math.Max(b[4 * i], b[4 * j]), yy1 = Math.Max(b[4 * i + 1], b[4 * j + 1]);
                float xx2 = Math.Min(b[4 * i + 2], b[4 * j + 2]), yy2 = Math.Min(b[4 * i + 3], b[4 * j + 3]);
                float inter = Math.Max(0f, xx2 - xx1) * Math.Max(0f, yy2 - yy1);
                float iou = inter / (area[i] + area[j] - inter);
                if (iou > iouThreshold) suppressed[j] = true; // NaN (two empty boxes) never suppresses
            }
        }
        return [.. keep];
    }

    /// <summary>
    /// Whether each box (in crop coordinates) lies within <paramref name="atol"/> pixels of an edge of the
    /// crop that is not also an edge of the image (amg.py <c>is_box_near_crop_edge</c>).
    /// </summary>
    /// <param name="boxes">(N, 4) in crop coordinates.</param>
    /// <returns>(N) bool.</returns>
    public static Tensor IsBoxNearCropEdge(Tensor boxes, int[] cropBox, int[] origBox, double atol = 20.0)
    {
        using var scope = NewDisposeScope();
        var crop = tensor(cropBox.Select(v => (float)v).ToArray()).unsqueeze(0);
        var orig = tensor(origBox.Select(v => (float)v).ToArray()).unsqueeze(0);
        var offset = tensor(new float[] { cropBox[0], cropBox[1], cropBox[0], cropBox[1] }).unsqueeze(0);
        var b = boxes.to(ScalarType.Float32) + offset;
        var nearCrop = (b - crop).abs().le(atol);
        var nearImage = (b - orig).abs().le(atol);
        return nearCrop.logical_and(nearImage.logical_not()).any(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Removes the 8-connected regions smaller than <paramref name="areaThresh"/> pixels: holes (filled) when
    /// <paramref name="holes"/>, else islands (cleared; the largest stays if all are small). Follows amg.py
    /// <c>remove_small_regions</c>, whose <c>cv2.connectedComponentsWithStats(mask, 8)</c> is replaced by a flood fill.
    /// </summary>
    /// <param name="mask">Row-major (H, W) mask.</param>
    /// <returns>The new mask and whether it changed (the input is returned when it did not).</returns>
    public static (bool[] Mask, bool Changed) RemoveSmallRegions(bool[] mask, int height, int width, double areaThresh, bool holes)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.LongLength != (long)height * width)
            throw new ArgumentException($"mask must hold height × width = {(long)height * width} values; got {mask.LongLength}", nameof(mask));
        // The regions are of the mask (islands) or of its complement (holes); label 0 is the rest.
        var (labels, sizes) = LabelRegions(mask, height, width, foreground: !holes);
        var small = new HashSet<int>(Enumerable.Range(1, sizes.Count).Where(l => sizes[l - 1] < areaThresh));
        if (small.Count == 0) return (mask, false);
        Func<int, bool> fill;
        if (holes) fill = l => l == 0 || small.Contains(l);
        else if (small.Count < sizes.Count) fill = l => l != 0 && !small.Contains(l);
        else
        {
            int largest = sizes.IndexOf(sizes.Max()) + 1; // np.argmax: the first of equal sizes
            fill = l => l == largest;
        }
        var result = new bool[mask.Length];
        for (int i = 0; i < mask.Length; i++) result[i] = fill(labels[i]);
        return (result, true);
    }

    /// <summary>8-connected regions of the pixels equal to <paramref name="foreground"/>, labelled 1, 2, … in raster
    /// order of their first pixel (0 elsewhere), with each region's size.</summary>
    static (int[] Labels, List<int> Sizes) LabelRegions(bool[] mask, int height, int width, bool foreground)
    {
        var labels = new int[mask.Length];
        var sizes = new List<int>();
        var stack = new Stack<int>();
        for (int start = 0; start < mask.Length; start++)
        {
            if (mask[start] != foreground || labels[start] != 0) continue;
            int label = sizes.Count + 1, size = 0;
            labels[start] = label;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int i = stack.Pop(), y = i / width, x = i % width;
                size++;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int ny = y + dy, nx = x + dx;
                        if ((uint)ny >= (uint)height || (uint)nx >= (uint)width) continue;
                        int j = ny * width + nx;
                        if (mask[j] != foreground || labels[j] != 0) continue;
                        labels[j] = label;
                        stack.Push(j);
                    }
            }
            sizes.Add(size);
        }
        return (labels, sizes);
    }
}
