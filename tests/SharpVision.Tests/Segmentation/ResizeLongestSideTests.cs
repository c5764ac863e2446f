using SharpVision.Segmentation.Sam;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class ResizeLongestSideTests
{
    [Theory]
    [InlineData(50, 37, 72, 72, 53)]
    [InlineData(1500, 2000, 1024, 768, 1024)]
    [InlineData(480, 640, 1024, 768, 1024)]
    [InlineData(1024, 1024, 1024, 1024, 1024)]
    [InlineData(3, 1000, 1024, 3, 1024)]
    public void Preprocess_shape_scales_the_longest_side(int h, int w, int target, int eh, int ew) =>
        Assert.Equal((eh, ew), ResizeLongestSide.GetPreprocessShape(h, w, target));

    [Fact]
    public void Coordinates_and_boxes_scale_per_axis_in_float64()
    {
        var t = new ResizeLongestSide(72);
        var coords = t.ApplyCoords(tensor(new[] { 37.0, 50.0, 10.0, 5.0 }, [2, 2]), (50, 37));
        Assert.Equal(ScalarType.Float64, coords.dtype);
        // x * (new / old), in that order, as the reference
        Assert.Equal(new[] { 53.0, 72.0, 10.0 * (53.0 / 37), 5.0 * (72.0 / 50) }, coords.data<double>().ToArray());
        var boxes = t.ApplyBoxes(tensor(new[] { 0f, 0f, 37f, 50f }, [1, 4]), (50, 37));
        Assert.Equal(new long[] { 1, 4 }, boxes.shape);
        Assert.Equal(new[] { 0.0, 0.0, 53.0, 72.0 }, boxes.data<double>().ToArray());
    }

    [Fact]
    public void Wrong_coordinate_shape_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new ResizeLongestSide(72).ApplyCoords(zeros(3, 3), (10, 10)));
        Assert.Contains("coords must be (..., 2); got (3, 3)", e.Message);
    }
}
