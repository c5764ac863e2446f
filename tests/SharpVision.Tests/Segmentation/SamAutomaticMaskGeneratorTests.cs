using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class SamAutomaticMaskGeneratorTests
{
    [Fact]
    public void Crop_layers_return_masks_in_image_coordinates()
    {
        using var c = ParityCase.Load("sam/sam_tiny_automatic_masks");
        using var sam = SamPredictorParity.LoadModel(c, ScalarType.Float32);
        var generator = new SamAutomaticMaskGenerator(sam, pointsPerSide: 4, pointsPerBatch: 8, predIouThresh: 0, stabilityScoreThresh: 0, cropNLayers: 1);
        var image = c.Raw("image");
        var records = generator.Generate(image.contiguous().data<byte>().ToArray(), 48, 64);
        try
        {
            Assert.Contains(records, r => r.CropBox == (0, 0, 64, 48));
            Assert.Contains(records, r => r.CropBox != (0, 0, 64, 48)); // some survive from the 2x2 crops
            Assert.All(records, r =>
            {
                Assert.Equal(new long[] { 48, 64 }, r.Segmentation!.shape);
                Assert.Equal(r.Area, r.Segmentation.sum().item<long>());
                Assert.InRange(r.PointCoords.X, 0, 64);
                Assert.InRange(r.PointCoords.Y, 0, 48);
            });
        }
        finally
        {
            foreach (var r in records) r.Dispose();
        }
    }

    [Fact]
    public void Empty_images_are_rejected()
    {
        using var c = ParityCase.Load("sam/sam_tiny_automatic_masks");
        using var sam = SamPredictorParity.LoadModel(c, ScalarType.Float32);
        var generator = new SamAutomaticMaskGenerator(sam);
        Assert.Contains("non-empty", Assert.Throws<ArgumentException>(() => generator.Generate([], 0, 0)).Message);
        Assert.Contains("12 bytes; got 3", Assert.Throws<ArgumentException>(() => generator.Generate(new byte[3], 2, 2)).Message);
    }

    static IReadOnlyList<SamMaskRecord> Generate(int pointsPerBatch, SamOutputMode mode = SamOutputMode.UncompressedRle,
        int minMaskRegionArea = 0, Action<int>? batchDone = null, double boxNmsThresh = 0.7, Action? beforeGenerate = null)
    {
        using var c = ParityCase.Load("sam/sam_tiny_automatic_masks");
        using var sam = SamPredictorParity.LoadModel(c, ScalarType.Float32);
        var generator = new SamAutomaticMaskGenerator(sam, pointsPerSide: 8, pointsPerBatch: pointsPerBatch, predIouThresh: 0,
            stabilityScoreThresh: 0, boxNmsThresh: boxNmsThresh, minMaskRegionArea: minMaskRegionArea, outputMode: mode);
        var image = c.Raw("image").contiguous().data<byte>().ToArray();
        beforeGenerate?.Invoke();
        return generator.Generate(image, 48, 64, batchDone);
    }

    [Fact]
    public void One_point_per_batch_gives_the_masks_of_64_points_per_batch()
    {
        var one = Generate(1);
        var many = Generate(64);
        Assert.NotEmpty(one);
        Assert.Equal(one.Count, many.Count);
        for (int i = 0; i < one.Count; i++)
        {
            Assert.Equal(one[i].Rle.Counts, many[i].Rle.Counts);
            Assert.Equal(one[i].PointCoords, many[i].PointCoords);
            Assert.Equal(one[i].Bbox, many[i].Bbox);
            Assert.Equal(one[i].PredictedIou, many[i].PredictedIou, 5);
            Assert.Equal(one[i].StabilityScore, many[i].StabilityScore, 5);
        }
    }

    [Fact]
    public void Live_tensors_stay_flat_across_batches_and_run_lengths_hold_none()
    {
        var live = new List<long>();
        long before = 0, after = 0;
        // No NMS (IoU never exceeds 1): every batch's masks are kept, so the records grow while the tensors must not.
        var records = Generate(4, batchDone: n =>
        {
            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            if (n == 16) after = live[^1];
        }, boxNmsThresh: 1.0, beforeGenerate: () => before = DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(16, live.Count); // 64 points in batches of 4
        Assert.All(live, n => Assert.Equal(live[0], n));
        Assert.True(records.Count > 16 * 4, $"only {records.Count} masks kept; the check needs masks from every batch");
        Assert.All(records, r => Assert.Null(r.Segmentation));
        // During the batches only the predictor's image embedding and grid encoding are held.
        Assert.Equal(before + 2, after);
    }

    [Fact]
    public void Output_modes_hold_the_same_masks()
    {
        var rle = Generate(16);
        var binary = Generate(16, SamOutputMode.BinaryMask);
        var coco = Generate(16, SamOutputMode.CocoRle);
        try
        {
            Assert.Equal(rle.Count, binary.Count);
            Assert.Equal(rle.Count, coco.Count);
            for (int i = 0; i < rle.Count; i++)
            {
                Assert.Null(rle[i].CocoCounts);
                Assert.Equal(rle[i].Rle.ToMask(), binary[i].Segmentation!.data<bool>().ToArray());
                Assert.Equal(rle[i].Rle.Counts, SamRle.FromCocoString(coco[i].CocoCounts!, 48, 64).Counts);
                Assert.Equal(rle[i].Area, binary[i].Segmentation!.sum().item<long>());
            }
        }
        finally
        {
            foreach (var r in binary) r.Dispose();
        }
    }

    [Fact]
    public void Min_mask_region_area_leaves_no_small_holes_or_islands()
    {
        const int minArea = 40;
        var plain = Generate(16);
        var cleaned = Generate(16, minMaskRegionArea: minArea);
        Assert.NotEmpty(cleaned);
        Assert.Contains(plain, r => SamMaskUtils.RemoveSmallRegions(r.Rle.ToMask(), 48, 64, minArea, holes: true).Changed
            || SamMaskUtils.RemoveSmallRegions(r.Rle.ToMask(), 48, 64, minArea, holes: false).Changed);
        Assert.All(cleaned, r =>
        {
            var mask = r.Rle.ToMask();
            Assert.Equal(mask, SamMaskUtils.RemoveSmallRegions(mask, 48, 64, minArea, holes: true).Mask);
            Assert.Equal(mask, SamMaskUtils.RemoveSmallRegions(mask, 48, 64, minArea, holes: false).Mask);
            var box = SamMaskUtils.MaskToBox(mask, 48, 64);
            Assert.Equal((box[0], box[1], box[2] - box[0], box[3] - box[1]), r.Bbox);
            Assert.Equal(mask.Count(b => b), r.Area);
        });
    }

    [Fact]
    public void Unknown_output_modes_list_the_allowed_ones() =>
        Assert.Contains("binary_mask, uncompressed_rle, coco_rle; got 'rle'", Assert.Throws<ArgumentException>(() => SamOutputModes.Parse("rle")).Message);
}
