using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Segments everything in an image: prompts SAM with a regular grid of foreground points (on the whole
/// image and, optionally, on layers of overlapping crops), keeps masks whose predicted IoU and stability
/// pass the thresholds, and removes duplicates by box non-maximum suppression. Follows segment-anything
/// automatic_mask_generator.py <c>SamAutomaticMaskGenerator</c> (dca509f) with binary-mask output.
/// </summary>
/// <remarks>
/// Steps, per crop: (1) encode the crop; (2) for each batch of grid points, predict three masks per point;
/// (3) drop masks with IoU prediction ≤ <c>predIouThresh</c> and stability &lt; <c>stabilityScoreThresh</c>
/// (each only when the threshold is positive); (4) threshold the logits, take bounding boxes, drop boxes
/// touching an inner crop edge; (5) NMS within the crop at <c>boxNmsThresh</c>. Across crops: NMS at
/// <c>cropNmsThresh</c> preferring smaller crops. Removing small regions (the reference's
/// <c>min_mask_region_area</c>, which needs OpenCV) is not implemented.
/// </remarks>
public sealed class SamAutomaticMaskGenerator
{
    readonly SamPredictor predictor;
    readonly IReadOnlyList<double[,]> pointGrids;

    public int PointsPerBatch { get; }
    public double PredIouThresh { get; }
    public double StabilityScoreThresh { get; }
    public double StabilityScoreOffset { get; }
    public double BoxNmsThresh { get; }
    public int CropNLayers { get; }
    public double CropNmsThresh { get; }
    public double CropOverlapRatio { get; }

    /// <param name="model">The model (not owned).</param>
    /// <param name="pointsPerSide">Grid points per image side (the grid has its square).</param>
    /// <param name="pointsPerBatch">Points decoded together; trades memory for speed.</param>
    /// <param name="predIouThresh">Minimum predicted IoU (exclusive); 0 keeps all.</param>
    /// <param name="stabilityScoreThresh">Minimum stability score; 0 keeps all.</param>
    /// <param name="stabilityScoreOffset">Logit shift of the stability score.</param>
    /// <param name="boxNmsThresh">Box IoU above which a lower-scored mask of the same crop is dropped.</param>
    /// <param name="cropNLayers">Layers of crops (layer i has 2^i × 2^i crops); 0 runs on the whole image only.</param>
    /// <param name="cropNmsThresh">Box IoU above which a duplicate from a larger crop is dropped.</param>
    /// <param name="cropOverlapRatio">Overlap of neighbouring crops as a fraction of the short image side (at layer 1).</param>
    /// <param name="cropNPointsDownscaleFactor">Points per side shrink by this factor per crop layer.</param>
    public SamAutomaticMaskGenerator(SamModel model, int pointsPerSide = 32, int pointsPerBatch = 64, double predIouThresh = 0.88,
        double stabilityScoreThresh = 0.95, double stabilityScoreOffset = 1.0, double boxNmsThresh = 0.7, int cropNLayers = 0,
        double cropNmsThresh = 0.7, double cropOverlapRatio = 512.0 / 1500, int cropNPointsDownscaleFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pointsPerSide);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pointsPerBatch);
        ArgumentOutOfRangeException.ThrowIfNegative(cropNLayers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cropNPointsDownscaleFactor);
        predictor = new SamPredictor(model);
        PointsPerBatch = pointsPerBatch;
        PredIouThresh = predIouThresh;
        StabilityScoreThresh = stabilityScoreThresh;
        StabilityScoreOffset = stabilityScoreOffset;
        BoxNmsThresh = boxNmsThresh;
        CropNLayers = cropNLayers;
        CropNmsThresh = cropNmsThresh;
        CropOverlapRatio = cropOverlapRatio;
        // amg.py build_all_layer_point_grids
        pointGrids = Enumerable.Range(0, cropNLayers + 1)
            .Select(i => SamMaskUtils.BuildPointGrid((int)(pointsPerSide / Math.Pow(cropNPointsDownscaleFactor, i))))
            .ToList();
    }

    /// <summary>Finds the masks of an image, in the order the reference returns them (NMS order).</summary>
    /// <param name="image">(height, width, 3) uint8 RGB pixels.</param>
    /// <returns>One record per mask; the caller disposes them.</returns>
    /// <exception cref="ArgumentException">Empty image or wrong byte count.</exception>
    public IReadOnlyList<SamMaskRecord> Generate(byte[] image, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"image must be non-empty; got height {height}, width {width}", nameof(image));
        if (image.LongLength != (long)height * width * 3)
            throw new ArgumentException($"image must be (height, width, 3) = ({height}, {width}, 3) uint8, {(long)height * width * 3} bytes; got {image.LongLength} bytes", nameof(image));

        using var scope = NewDisposeScope();
        var crops = SamMaskUtils.GenerateCropBoxes((height, width), CropNLayers, CropOverlapRatio);
        var all = new List<Candidate>();
        foreach (var (box, layer) in crops) all.AddRange(ProcessCrop(image, height, width, box, layer));

        if (crops.Count > 1 && all.Count > 0)
        {
            // Prefer masks from smaller crops.
            var boxes = stack(all.Select(c => c.Box).ToArray());
            var scores = tensor(all.Select(c => 1.0f / ((c.Crop[2] - c.Crop[0]) * (c.Crop[3] - c.Crop[1]))).ToArray());
            all = SamMaskUtils.Nms(boxes, scores, CropNmsThresh).Select(i => all[i]).ToList();
        }

        var records = new List<SamMaskRecord>(all.Count);
        foreach (var c in all)
        {
            var b = c.Box.data<long>().ToArray();
            var mask = c.Mask.DetachFromDisposeScope();
            records.Add(new SamMaskRecord(mask, mask.sum().item<long>(), ((int)b[0], (int)b[1], (int)(b[2] - b[0]), (int)(b[3] - b[1])),
                c.Iou, c.Point, c.Stability, (c.Crop[0], c.Crop[1], c.Crop[2] - c.Crop[0], c.Crop[3] - c.Crop[1])));
        }
        return records;
    }

    sealed record Candidate(Tensor Mask, Tensor Box, double Iou, (double X, double Y) Point, double Stability, int[] Crop);

    List<Candidate> ProcessCrop(byte[] image, int height, int width, int[] crop, int layer)
    {
        int x0 = crop[0], y0 = crop[1], cw = crop[2] - crop[0], ch = crop[3] - crop[1];
        var cropped = new byte[cw * ch * 3];
        for (int y = 0; y < ch; y++) Array.Copy(image, ((long)(y0 + y) * width + x0) * 3, cropped, (long)y * cw * 3, cw * 3);
        predictor.SetImage(cropped, ch, cw);

        var grid = pointGrids[layer];
        int n = grid.GetLength(0);
        var candidates = new List<Candidate>();
        for (int start = 0; start < n; start += PointsPerBatch)
        {
            int count = Math.Min(PointsPerBatch, n - start);
            var points = new double[count * 2];
            for (int i = 0; i < count; i++)
            {
                points[2 * i] = grid[start + i, 0] * cw;      // x scales with the crop width
                points[2 * i + 1] = grid[start + i, 1] * ch;
            }
            candidates.AddRange(ProcessBatch(points, count, (ch, cw), crop, (height, width)));
        }
        predictor.ResetImage();
        if (candidates.Count == 0) return candidates;

        var keep = SamMaskUtils.Nms(stack(candidates.Select(c => c.Box).ToArray()), tensor(candidates.Select(c => c.Iou).ToArray()), BoxNmsThresh);
        // Back to the image frame.
        var offset = tensor(new long[] { x0, y0, x0, y0 });
        return keep.Select(i => candidates[i] with { Box = candidates[i].Box + offset, Point = (candidates[i].Point.X + x0, candidates[i].Point.Y + y0) }).ToList();
    }

    IEnumerable<Candidate> ProcessBatch(double[] points, int count, (int H, int W) cropSize, int[] crop, (int H, int W) origSize)
    {
        // Float64 coordinates straight into predict_torch, as the reference.
        var transformed = predictor.Transform.ApplyCoords(tensor(points, [count, 2]), cropSize);
        var labels = ones([count, 1], ScalarType.Int32);
        using var prediction = predictor.PredictTorch(transformed.unsqueeze(1), labels, multimaskOutput: true, returnLogits: true);
        var masks = prediction.Masks.flatten(0, 1);            // (count * 3, h, w), point-major
        var iou = prediction.IouPredictions.flatten(0, 1).to(ScalarType.Float64).data<double>().ToArray();
        int perPoint = (int)prediction.Masks.shape[1];
        var stability = SamMaskUtils.StabilityScore(masks, SamModel.MaskThreshold, StabilityScoreOffset).to(ScalarType.Float64).data<double>().ToArray();
        var binary = masks.gt(SamModel.MaskThreshold);
        var boxes = SamMaskUtils.MaskToBox(binary);
        var nearEdge = SamMaskUtils.IsBoxNearCropEdge(boxes, crop, [0, 0, origSize.W, origSize.H]).data<bool>().ToArray();
        for (int k = 0; k < iou.Length; k++)
        {
            if (PredIouThresh > 0.0 && !(iou[k] > PredIouThresh)) continue;
            if (StabilityScoreThresh > 0.0 && !(stability[k] >= StabilityScoreThresh)) continue;
            if (nearEdge[k]) continue;
            int p = k / perPoint;
            yield return new Candidate(Uncrop(binary[k], crop, origSize), boxes[k], iou[k], (points[2 * p], points[2 * p + 1]), stability[k], crop);
        }
    }

    /// <summary>Pads a crop's (h, w) mask to the image size (amg.py <c>uncrop_masks</c>).</summary>
    static Tensor Uncrop(Tensor mask, int[] crop, (int H, int W) origSize)
    {
        if (crop[0] == 0 && crop[1] == 0 && crop[2] == origSize.W && crop[3] == origSize.H) return mask;
        return nn.functional.pad(mask.to(ScalarType.Byte), [crop[0], origSize.W - crop[2], crop[1], origSize.H - crop[3]]).to(ScalarType.Bool);
    }
}
