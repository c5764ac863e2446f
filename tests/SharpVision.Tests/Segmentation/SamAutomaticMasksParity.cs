using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

/// <summary>
/// <c>sam_automatic_masks</c>: SamAutomaticMaskGenerator on a small model, float32 as the reference. The
/// reference's masks, sorted by area (descending) and cut to <c>num_masks</c>, are each matched to our mask
/// of best IoU among all we found (borderline thresholds can reorder or flip masks); a match may differ in at
/// most <c>mask_pixel_mismatch_fraction</c> of the image's pixels, and its scores, point and box must agree.
/// </summary>
public sealed class SamAutomaticMasksParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["sam_automatic_masks"];

    public void Run(ParityCase c, Precision p)
    {
        using var sam = SamPredictorParity.LoadModel(c, ScalarType.Float32);
        var generator = new SamAutomaticMaskGenerator(sam,
            pointsPerSide: (int)c.Long("points_per_side")!, pointsPerBatch: (int)c.Long("points_per_batch")!,
            predIouThresh: c.Double("pred_iou_thresh")!.Value, stabilityScoreThresh: c.Double("stability_score_thresh")!.Value,
            stabilityScoreOffset: c.Double("stability_score_offset")!.Value, boxNmsThresh: c.Double("box_nms_thresh")!.Value,
            cropNLayers: (int)c.Long("crop_n_layers")!);
        Assert.Equal(0, c.Long("min_mask_region_area"));
        double allowed = c.Json.GetProperty("tolerance").GetProperty("mask_pixel_mismatch_fraction").GetDouble();

        var image = c.Raw("image");
        int h = (int)image.shape[0], w = (int)image.shape[1];
        var records = generator.Generate(image.contiguous().data<byte>().ToArray(), h, w);
        try
        {
            var ours = records.OrderByDescending(r => r.Area).ToList();
            var expectedMasks = c.Raw("expected_masks");
            int n = (int)expectedMasks.shape[0];
            Assert.True(ours.Count >= n, $"{c.Name}: found {ours.Count} masks, the reference keeps at least {n}");
            var areas = c.Raw("expected_areas").data<long>().ToArray();
            var boxes = c.Raw("expected_boxes_xywh").data<double>().ToArray();
            var points = c.Raw("expected_point_coords").data<double>().ToArray();
            var ious = c.Raw("expected_predicted_iou").data<double>().ToArray();
            var stabilities = c.Raw("expected_stability_score").data<double>().ToArray();
            for (int i = 0; i < n; i++)
            {
                var expected = expectedMasks[i];
                // Several small masks can fit equally well: among the best fits, take the one from the same grid point
                // with the closest predicted IoU.
                var fits = ours.Select(r => (Record: r, Mismatch: r.Segmentation!.ne(expected).sum().item<long>())).ToList();
                long mismatch = fits.Min(f => f.Mismatch);
                var best = fits.Where(f => f.Mismatch == mismatch).Select(f => f.Record)
                    .OrderBy(r => r.PointCoords == (points[2 * i], points[2 * i + 1]) ? 0 : 1)
                    .ThenBy(r => Math.Abs(r.PredictedIou - ious[i])).First();
                string what = $"{c.Name} mask {i} (area {areas[i]})";
                Assert.True(mismatch <= allowed * h * w, $"{what}: best match differs in {mismatch} pixels");
                Assert.True(Math.Abs(best.PredictedIou - ious[i]) <= p.Atol + p.Rtol * Math.Abs(ious[i]), $"{what}: predicted IoU {best.PredictedIou} vs {ious[i]}");
                Assert.True(Math.Abs(best.StabilityScore - stabilities[i]) <= p.Atol + p.Rtol * Math.Abs(stabilities[i]) + (double)mismatch / Math.Max(1, areas[i]),
                    $"{what}: stability {best.StabilityScore} vs {stabilities[i]}");
                Assert.Equal((points[2 * i], points[2 * i + 1]), best.PointCoords);
                if (mismatch == 0)
                {
                    Assert.Equal(areas[i], best.Area);
                    Assert.Equal(((int)boxes[4 * i], (int)boxes[4 * i + 1], (int)boxes[4 * i + 2], (int)boxes[4 * i + 3]), best.Bbox);
                }
            }
        }
        finally
        {
            foreach (var r in records) r.Dispose();
        }
    }
}
