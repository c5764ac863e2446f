using SharpVision.Segmentation.Sam;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class SamMaskUtilsTests
{
    [Fact]
    public void Point_grid_holds_cell_centres_x_fastest()
    {
        var grid = SamMaskUtils.BuildPointGrid(4);
        Assert.Equal(16, grid.GetLength(0));
        Assert.Equal((0.125, 0.125), (grid[0, 0], grid[0, 1]));
        Assert.Equal((0.375, 0.125), (grid[1, 0], grid[1, 1]));
        Assert.Equal((0.875, 0.875), (grid[15, 0], grid[15, 1]));
        Assert.Equal((0.5, 0.5), (SamMaskUtils.BuildPointGrid(1)[0, 0], SamMaskUtils.BuildPointGrid(1)[0, 1]));
    }

    [Fact]
    public void Crop_boxes_cover_the_image_with_overlap()
    {
        var crops = SamMaskUtils.GenerateCropBoxes((100, 150), 1, 512.0 / 1500);
        Assert.Equal(5, crops.Count);
        Assert.Equal([0, 0, 150, 100], crops[0].Box);
        // overlap = int(0.3413 * 100 * 1) = 34; crop_w = ceil((34 + 150) / 2) = 92, crop_h = ceil((34 + 100) / 2) = 67
        Assert.Equal([0, 0, 92, 67], crops[1].Box);
        Assert.Equal([0, 33, 92, 100], crops[2].Box);   // y varies fastest
        Assert.Equal([58, 0, 150, 67], crops[3].Box);
        Assert.All(crops.Skip(1), c => Assert.Equal(1, c.Layer));
    }

    [Fact]
    public void Mask_boxes_are_inclusive_and_empty_masks_give_zeros()
    {
        var masks = zeros([2, 5, 6], ScalarType.Bool);
        masks[0, 1, 2] = tensor(true);
        masks[0, 3, 4] = tensor(true);
        var boxes = SamMaskUtils.MaskToBox(masks);
        Assert.Equal(new long[] { 2, 1, 4, 3, 0, 0, 0, 0 }, boxes.data<long>().ToArray());
    }

    [Fact]
    public void Stability_is_the_ratio_of_the_shifted_thresholds()
    {
        var logits = tensor(new[] { 2f, 0.5f, -0.5f, -2f }, [1, 2, 2]);
        Assert.Equal(1f / 3f, SamMaskUtils.StabilityScore(logits, 0.0, 1.0).item<float>(), 6);
    }

    [Fact]
    public void Nms_keeps_the_best_of_overlapping_boxes()
    {
        var boxes = tensor(new[] { 0f, 0f, 10f, 10f, 1f, 1f, 10f, 10f, 20f, 20f, 30f, 30f, 0f, 0f, 10f, 9f }, [4, 4]);
        var scores = tensor(new[] { 0.5f, 0.9f, 0.1f, 0.2f });
        // IoU(1, 0) = 81/100 > 0.7; IoU(1, 3) = 72/(81 + 90 - 72) = 0.727 > 0.7; box 2 is apart.
        Assert.Equal([1, 2], SamMaskUtils.Nms(boxes, scores, 0.7));
        Assert.Equal([1, 0, 3, 2], SamMaskUtils.Nms(boxes, scores, 0.95));
        Assert.Contains("scores must be (4); got (3)", Assert.Throws<ArgumentException>(() => SamMaskUtils.Nms(boxes, zeros(3), 0.5)).Message);
    }

    [Fact]
    public void Boxes_near_an_inner_crop_edge_are_flagged()
    {
        var boxes = tensor(new long[] { 5, 5, 40, 40, 30, 30, 60, 60 }, [2, 4]);
        // Crop (0, 0, 100, 100) of a 200x200 image: its right and bottom edges are inner edges.
        var near = SamMaskUtils.IsBoxNearCropEdge(boxes, [0, 0, 100, 100], [0, 0, 200, 200]).data<bool>().ToArray();
        Assert.Equal([false, false], near);
        near = SamMaskUtils.IsBoxNearCropEdge(tensor(new long[] { 30, 30, 90, 60 }, [1, 4]), [0, 0, 100, 100], [0, 0, 200, 200]).data<bool>().ToArray();
        Assert.Equal([true], near);
    }

    static bool[] Parse(params string[] rows) => rows.SelectMany(r => r.Select(ch => ch == '#')).ToArray();

    [Fact]
    public void Small_holes_are_filled_and_small_islands_dropped_with_8_connectivity()
    {
        var mask = Parse(
            "####..",
            "#.##..",
            "####..",
            "......",
            ".....#",
            "....#.");
        var (filled, holesChanged) = SamMaskUtils.RemoveSmallRegions(mask, 6, 6, 2, holes: true);
        Assert.True(holesChanged);
        Assert.Equal(Parse("####..", "####..", "####..", "......", ".....#", "....#."), filled);
        // The diagonal pair is one 8-connected island of 2 pixels: below 3 it goes, below 2 it stays.
        var (cleaned, islandsChanged) = SamMaskUtils.RemoveSmallRegions(filled, 6, 6, 3, holes: false);
        Assert.True(islandsChanged);
        Assert.Equal(Parse("####..", "####..", "####..", "......", "......", "......"), cleaned);
        var (same, changed) = SamMaskUtils.RemoveSmallRegions(filled, 6, 6, 2, holes: false);
        Assert.False(changed);
        Assert.Same(filled, same);
    }

    [Fact]
    public void When_every_island_is_small_the_largest_stays()
    {
        var mask = Parse("#..##", ".....", "..#..");
        var (kept, changed) = SamMaskUtils.RemoveSmallRegions(mask, 3, 5, 10, holes: false);
        Assert.True(changed);
        Assert.Equal(Parse("...##", ".....", "....."), kept);
        Assert.Equal([3, 0, 4, 0], SamMaskUtils.MaskToBox(kept, 3, 5));
        Assert.Equal([0, 0, 0, 0], SamMaskUtils.MaskToBox(new bool[15], 3, 5));
    }
}
