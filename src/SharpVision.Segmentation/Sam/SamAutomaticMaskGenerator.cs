using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Segments everything in an image: prompts SAM with a regular grid of foreground points (on the whole
/// image and, optionally, on layers of overlapping crops), keeps masks whose predicted IoU and stability
/// pass the thresholds, and removes duplicates by box non-maximum suppression. Follows segment-anything
/// automatic_mask_generator.py <c>SamAutomaticMaskGenerator</c> (dca509f).
/// </summary>
/// <remarks>
/// Steps, per crop: (1) encode the crop once; (2) for each batch of <c>pointsPerBatch</c> grid points, one
/// prompt-encoder and mask-decoder call predicts three masks per point; (3) drop masks with IoU prediction ≤
/// <c>predIouThresh</c> and stability &lt; <c>stabilityScoreThresh</c> (each only when the threshold is positive);
/// (4) threshold the logits, take bounding boxes, drop boxes touching an inner crop edge; (5) pad to the image
/// and compress to run lengths (<see cref="SamRle"/>), freeing the batch's dense masks; (6) NMS within the crop at
/// <c>boxNmsThresh</c>. Across crops: NMS at <c>cropNmsThresh</c> preferring smaller crops. Then, when
/// <c>minMaskRegionArea</c> &gt; 0, small holes and islands are removed and NMS runs again; last, masks are
/// decoded into the requested <see cref="SamOutputMode"/>. Memory thus holds one batch of dense masks and the
/// run lengths of the kept ones, however many points and crops.
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
    public int MinMaskRegionArea { get; }
    public SamOutputMode OutputMode { get; }

    /// <param name="model">The model (not owned).</param>
    /// <param name="pointsPerSide">Grid points per image side (the grid has its square).</param>
    /// <param name="pointsPerBatch">Points decoded together in one decoder call; trades memory for speed.</param>
    /// <param name="predIouThresh">Minimum predicted IoU (exclusive); 0 keeps all.</param>
    /// <param name="stabilityScoreThresh">Minimum stability score; 0 keeps all.</param>
    /// <param name="stabilityScoreOffset">Logit shift of the stability score.</param>
    /// <param name="boxNmsThresh">Box IoU above which a lower-scored mask of the same crop is dropped.</param>
    /// <param name="cropNLayers">Layers of crops (layer i has 2^i × 2^i crops); 0 runs on the whole image only.</param>
    /// <param name="cropNmsThresh">Box IoU above which a duplicate from a larger crop is dropped.</param>
    /// <param name="cropOverlapRatio">Overlap of neighbouring crops as a fraction of the short image side (at layer 1).</param>
    /// <param name="cropNPointsDownscaleFactor">Points per side shrink by this factor per crop layer.</param>
    /// <param name="minMaskRegionArea">Holes and islands smaller than this many pixels are removed; 0 skips it.</param>
    /// <param name="outputMode">The form of each record's mask.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is zero or negative.</exception>
    public SamAutomaticMaskGenerator(SamModel model, int pointsPerSide = 32, int pointsPerBatch = 64, double predIouThresh = 0.88,
        double stabilityScoreThresh = 0.95, double stabilityScoreOffset = 1.0, double boxNmsThresh = 0.7, int cropNLayers = 0,
        double cropNmsThresh = 0.7, double cropOverlapRatio = 512.0 / 1500, int cropNPointsDownscaleFactor = 1,
        int minMaskRegionArea = 0, SamOutputMode outputMode = SamOutputMode.BinaryMask)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pointsPerSide);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pointsPerBatch);
        ArgumentOutOfRangeException.ThrowIfNegative(cropNLayers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cropNPointsDownscaleFactor);
        ArgumentOutOfRangeException.ThrowIfNegative(minMaskRegionArea);
        predictor = new SamPredictor(model);
        PointsPerBatch = pointsPerBatch;
        PredIouThresh = predIouThresh;
        StabilityScoreThresh = stabilityScoreThresh;
        StabilityScoreOffset = stabilityScoreOffset;
        BoxNmsThresh = boxNmsThresh;
        CropNLayers = cropNLayers;
        CropNmsThresh = cropNmsThresh;
        CropOverlapRatio = cropOverlapRatio;
        MinMaskRegionArea = minMaskRegionArea;
        OutputMode = outputMode;
        // amg.py build_all_layer_point_grids
        pointGrids = Enumerable.Range(0, cropNLayers + 1)
            .Select(i => SamMaskUtils.BuildPointGrid((int)(pointsPerSide / Math.Pow(cropNPointsDownscaleFactor, i))))
            .ToList();
    }

    /// <summary>Finds the masks of an image, in the order the reference returns them (NMS order).</summary>
    /// <param name="image">(height, width, 3) uint8 RGB pixels.</param>
    /// <param name="batchDone">Called after each batch of points is decoded and compressed, with the number of
    /// batches done so far (across crops).</param>
    /// <returns>One record per mask; the caller disposes them (only binary masks hold a tensor).</returns>
    /// <exception cref="ArgumentException">Empty image or wrong byte count.</exception>
    public IReadOnlyList<SamMaskRecord> Generate(byte[] image, int height, int width, Action<int>? batchDone = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"image must be non-empty; got height {height}, width {width}", nameof(image));
        if (image.LongLength != (long)height * width * 3)
            throw new ArgumentException($"image must be (height, width, 3) = ({height}, {width}, 3) uint8, {(long)height * width * 3} bytes; got {image.LongLength} bytes", nameof(image));

        using var inference = inference_mode(); // the reference's @torch.no_grad, stronger
        var crops = SamMaskUtils.GenerateCropBoxes((height, width), CropNLayers, CropOverlapRatio);
        var all = new List<Candidate>();
        int batches = 0;
        foreach (var (box, layer) in crops)
            all.AddRange(ProcessCrop(image, height, width, box, layer, () => batchDone?.Invoke(++batches)));

        // Remove duplicates between crops, preferring masks from smaller crops.
        if (crops.Count > 1)
            all = Nms(all, all.Select(c => (double)(1.0f / ((c.Crop[2] - c.Crop[0]) * (c.Crop[3] - c.Crop[1])))).ToArray(), CropNmsThresh); // float32, as 1 / box_area
        if (MinMaskRegionArea > 0)
            all = PostprocessSmallRegions(all, height, width, Math.Max(BoxNmsThresh, CropNmsThresh));

        return all.Select(c => new SamMaskRecord(c.Rle,
            OutputMode == SamOutputMode.BinaryMask ? c.Rle.ToTensor() : null,
            OutputMode == SamOutputMode.CocoRle ? c.Rle.ToCocoString() : null,
            c.Rle.Area, (c.Box[0], c.Box[1], c.Box[2] - c.Box[0], c.Box[3] - c.Box[1]),
            c.Iou, c.Point, c.Stability, (c.Crop[0], c.Crop[1], c.Crop[2] - c.Crop[0], c.Crop[3] - c.Crop[1]))).ToList();
    }

    /// <summary>A kept mask: its run lengths in the image frame, its inclusive box (x0, y0, x1, y1), the scores.</summary>
    sealed record Candidate(SamRle Rle, int[] Box, double Iou, (double X, double Y) Point, double Stability, int[] Crop);

    List<Candidate> ProcessCrop(byte[] image, int height, int width, int[] crop, int layer, Action batchDone)
    {
        int x0 = crop[0], y0 = crop[1], cw = crop[2] - crop[0], ch = crop[3] - crop[1];
        var cropped = new byte[cw * ch * 3];
        for (int y = 0; y < ch; y++) Array.Copy(image, ((long)(y0 + y) * width + x0) * 3, cropped, (long)y * cw * 3, cw * 3);
        predictor.SetImage(cropped, ch, cw);

        var grid = pointGrids[layer];
        int n = grid.GetLength(0);
        var candidates = new List<Candidate>();
        try
        {
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
                batchDone();
            }
        }
        finally { predictor.ResetImage(); }

        // Remove duplicates within the crop (boxes still in crop coordinates), then return to the image frame.
        return Nms(candidates, candidates.Select(c => c.Iou).ToArray(), BoxNmsThresh)
            .Select(c => c with { Box = [c.Box[0] + x0, c.Box[1] + y0, c.Box[2] + x0, c.Box[3] + y0], Point = (c.Point.X + x0, c.Point.Y + y0) })
            .ToList();
    }

    List<Candidate> ProcessBatch(double[] points, int count, (int H, int W) cropSize, int[] crop, (int H, int W) origSize)
    {
        using var scope = NewDisposeScope();
        // Float64 coordinates straight into predict_torch, as the reference; (count, 1, 2) points, one per prompt.
        var transformed = predictor.Transform.ApplyCoords(tensor(points, [count, 2]), cropSize);
        var labels = ones([count, 1], ScalarType.Int32);
        using var prediction = predictor.PredictTorch(transformed.unsqueeze(1), labels, multimaskOutput: true, returnLogits: true);
        int perPoint = (int)prediction.Masks.shape[1];
        var masks = prediction.Masks.flatten(0, 1);            // (count * 3, h, w) logits, point-major
        var iou = prediction.IouPredictions.flatten(0, 1).to(ScalarType.Float64).data<double>().ToArray();
        var stability = SamMaskUtils.StabilityScore(masks, SamModel.MaskThreshold, StabilityScoreOffset).to(ScalarType.Float64).data<double>().ToArray();
        var binary = masks.gt(SamModel.MaskThreshold);
        var boxes = SamMaskUtils.MaskToBox(binary);            // (count * 3, 4) in crop coordinates
        var nearEdge = SamMaskUtils.IsBoxNearCropEdge(boxes, crop, [0, 0, origSize.W, origSize.H]).data<bool>().ToArray();
        var boxValues = boxes.data<long>().ToArray();

        var keep = new List<long>();
        for (int k = 0; k < iou.Length; k++)
        {
            if (PredIouThresh > 0.0 && !(iou[k] > PredIouThresh)) continue;
            if (StabilityScoreThresh > 0.0 && !(stability[k] >= StabilityScoreThresh)) continue;
            if (nearEdge[k]) continue;
            keep.Add(k);
        }
        if (keep.Count == 0) return [];
        var rles = SamRle.FromMasks(Uncrop(binary.index_select(0, tensor(keep.ToArray())), crop, origSize));
        var result = new List<Candidate>(keep.Count);
        for (int i = 0; i < keep.Count; i++)
        {
            int k = (int)keep[i], p = k / perPoint;
            int[] box = [(int)boxValues[4 * k], (int)boxValues[4 * k + 1], (int)boxValues[4 * k + 2], (int)boxValues[4 * k + 3]];
            result.Add(new Candidate(rles[i], box, iou[k], (points[2 * p], points[2 * p + 1]), stability[k], crop));
        }
        return result;
    }

    /// <summary>
    /// Fills small holes, then drops small islands, of every mask; changed masks score 0 and unchanged 1 in a new
    /// NMS, so an unchanged mask wins over its cleaned duplicate (automatic_mask_generator.py <c>postprocess_small_regions</c>).
    /// </summary>
    List<Candidate> PostprocessSmallRegions(List<Candidate> candidates, int height, int width, double nmsThresh)
    {
        var cleaned = new List<(Candidate Updated, bool Unchanged)>(candidates.Count);
        foreach (var c in candidates)
        {
            var (mask, holesChanged) = SamMaskUtils.RemoveSmallRegions(c.Rle.ToMask(), height, width, MinMaskRegionArea, holes: true);
            (mask, var islandsChanged) = SamMaskUtils.RemoveSmallRegions(mask, height, width, MinMaskRegionArea, holes: false);
            bool unchanged = !holesChanged && !islandsChanged;
            cleaned.Add(unchanged ? (c, true) : (c with { Rle = SamRle.FromMask(mask, height, width), Box = SamMaskUtils.MaskToBox(mask, height, width) }, false));
        }
        // Only the kept masks that changed take their new run lengths and box, as the reference.
        return Nms(cleaned.Select(c => c.Updated).ToList(), cleaned.Select(c => c.Unchanged ? 1.0 : 0.0).ToArray(), nmsThresh);
    }

    /// <summary>torchvision <c>batched_nms</c> with one category, on the candidates' boxes.</summary>
    static List<Candidate> Nms(List<Candidate> candidates, double[] scores, double threshold)
    {
        if (candidates.Count == 0) return candidates;
        using var scope = NewDisposeScope();
        var keep = SamMaskUtils.Nms(BoxTensor(candidates), tensor(scores), threshold);
        return keep.Select(i => candidates[i]).ToList();
    }

    /// <summary>(N, 4) float32 boxes, as the reference passes <c>boxes.float()</c> to NMS.</summary>
    static Tensor BoxTensor(IEnumerable<Candidate> candidates)
    {
        var flat = candidates.SelectMany(c => c.Box).Select(v => (float)v).ToArray();
        return tensor(flat, [flat.Length / 4, 4]);
    }

    /// <summary>Pads a crop's (N, h, w) masks to the image size (amg.py <c>uncrop_masks</c>).</summary>
    static Tensor Uncrop(Tensor masks, int[] crop, (int H, int W) origSize)
    {
        if (crop[0] == 0 && crop[1] == 0 && crop[2] == origSize.W && crop[3] == origSize.H) return masks;
        return nn.functional.pad(masks.to(ScalarType.Byte), [crop[0], origSize.W - crop[2], crop[1], origSize.H - crop[3]]).to(ScalarType.Bool);
    }
}
