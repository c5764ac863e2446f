using SharpVision.Diffusion.ControlNet;

namespace SharpVision.Tests.ControlNet;

public sealed class EdgeMapsTests
{
    /// <summary>(1, 1, 32, 32): background −1, a +1 square over rows and columns [12, 20).</summary>
    static Tensor Square()
    {
        var image = full(1, 1, 32, 32, -1f);
        image[0, 0, TensorIndex.Slice(12, 20), TensorIndex.Slice(12, 20)].fill_(1);
        return image;
    }

    [Fact]
    public void ASquareHasEdgesOnlyOnItsBorder()
    {
        using var edges = EdgeMaps.Compute(Square());
        var e = edges[0, 0];
        Assert.Equal(new long[] { 1, 1, 32, 32 }, edges.shape);
        // the step lies between pixels 11|12 and 19|20: Sobel marks the pixel on each side of it
        var ring = zeros(32, 32);
        ring[TensorIndex.Slice(11, 21), TensorIndex.Slice(11, 21)].fill_(1);
        ring[TensorIndex.Slice(13, 19), TensorIndex.Slice(13, 19)].fill_(0);
        Assert.True(e.le(ring).all().item<bool>(), "an edge pixel lies off the square's border");
        foreach (var (r, c) in new[] { (11, 15), (12, 15), (19, 15), (20, 15), (15, 11), (15, 12), (15, 19), (15, 20) })
            Assert.Equal(1f, e[r, c].item<float>());
        Assert.Equal(0f, e[TensorIndex.Slice(13, 19), TensorIndex.Slice(13, 19)].sum().item<float>());
        Assert.Equal(0f, EdgeMaps.Compute(full(1, 1, 32, 32, 0.3f)).sum().item<float>()); // flat image: no edges, border included
    }

    [Fact]
    public void ConditionEnlargesByTheFactor()
    {
        using var c = EdgeMaps.Condition(Square(), factor: 2);
        Assert.Equal(new long[] { 1, 1, 64, 64 }, c.shape);
        Assert.Equal(4 * EdgeMaps.Compute(Square()).sum().item<float>(), c.sum().item<float>());
    }

    [Fact]
    public void IdenticalMapsScoreOneAndDisjointMapsZero()
    {
        var a = zeros(2, 1, 16, 16);
        a[TensorIndex.Colon, 0, 2, TensorIndex.Slice(2, 8)].fill_(1);
        var b = zeros(2, 1, 16, 16);
        b[TensorIndex.Colon, 0, 12, TensorIndex.Slice(6, 14)].fill_(1);
        Assert.Equal(new[] { 1f, 1f }, EdgeMaps.Iou(a, a).data<float>().ToArray());
        Assert.Equal(new[] { 1f, 1f }, EdgeMaps.F1(a, a).data<float>().ToArray());
        Assert.Equal(new[] { 0f, 0f }, EdgeMaps.Iou(a, b).data<float>().ToArray());
        Assert.Equal(new[] { 0f, 0f }, EdgeMaps.F1(a, b).data<float>().ToArray());
        Assert.Equal(1f, EdgeMaps.F1(zeros(1, 1, 4, 4), zeros(1, 1, 4, 4)).item<float>()); // nothing to find, nothing found
        Assert.Equal(0f, EdgeMaps.F1(a.narrow(0, 0, 1), zeros(1, 1, 16, 16)).item<float>());
    }

    [Fact]
    public void TheToleranceForgivesAOnePixelShiftButTheIouDoesNot()
    {
        var a = zeros(1, 1, 16, 16);
        a[0, 0, 5, TensorIndex.Slice(2, 12)].fill_(1);
        var shifted = a.roll(1, 2); // the line one row lower
        Assert.Equal(1f, EdgeMaps.F1(shifted, a, tolerance: 1).item<float>());
        Assert.Equal(0f, EdgeMaps.F1(shifted, a, tolerance: 0).item<float>());
        Assert.Equal(0f, EdgeMaps.Iou(shifted, a).item<float>());
        // half the predicted pixels right: precision 1/2, recall 1 -> F1 2/3 (Dice with tolerance 0)
        var extra = a.clone();
        extra[0, 0, 10, TensorIndex.Slice(2, 12)].fill_(1);
        Assert.Equal(2.0 / 3, EdgeMaps.F1(extra, a, tolerance: 0).item<float>(), 5);
        Assert.Equal(0.5, EdgeMaps.Iou(extra, a).item<float>(), 5);
    }

    [Fact]
    public void BadShapesNameTheProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => EdgeMaps.Compute(zeros(1, 3, 8, 8)));
        Assert.Contains("(B, 1, H, W)", e.Message);
        var m = Assert.Throws<ArgumentException>(() => EdgeMaps.Iou(zeros(1, 1, 8, 8), zeros(1, 1, 16, 16)));
        Assert.Contains("(1, 1, 8, 8)", m.Message);
        Assert.Contains("(1, 1, 16, 16)", m.Message);
    }
}
