using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class PromptEncoderTests
{
    static PromptEncoder Make() => new(32, (9, 9), (72, 72), 4);

    [Fact]
    public void Box_corners_as_labelled_points_equal_the_box_embedding()
    {
        var encoder = Make();
        using var noGrad = no_grad();
        var (fromBox, _) = encoder.forward(null, null, tensor(new[] { 3f, 4f, 30f, 50f }, [1, 4]), null);
        var (fromPoints, _) = encoder.forward(tensor(new[] { 3f, 4f, 30f, 50f }, [1, 2, 2]), tensor(new long[] { 2, 3 }, [1, 2]), null, null);
        Assert.Equal(new long[] { 1, 2, 32 }, fromBox.shape);
        Assert.Equal(new long[] { 1, 3, 32 }, fromPoints.shape); // plus the padding point
        Assert.True(fromPoints.slice(1, 0, 2, 1).allclose(fromBox, 0, 0));
        Assert.True(fromPoints[0, 2].allclose(encoder.not_a_point_embed.weight![0], 0, 0));
    }

    [Fact]
    public void No_prompt_gives_one_empty_sparse_set_and_the_no_mask_embedding()
    {
        var encoder = Make();
        using var noGrad = no_grad();
        var (sparse, dense) = encoder.forward(null, null, null, null);
        Assert.Equal(new long[] { 1, 0, 32 }, sparse.shape);
        Assert.Equal(new long[] { 1, 32, 9, 9 }, dense.shape);
        Assert.True(dense[0, .., 4, 4].allclose(encoder.no_mask_embed.weight![0], 0, 0));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(-2)]
    public void Labels_outside_the_known_set_are_rejected(long label)
    {
        var e = Assert.Throws<ArgumentException>(() => Make().forward(zeros(1, 2, 2), tensor(new long[] { 1, label }, [1, 2]), null, null));
        Assert.Contains($"got {label}", e.Message);
        Assert.Contains("-1 (padding), 0 (background), 1 (foreground), 2 or 3", e.Message);
    }

    [Fact]
    public void Shapes_and_batch_sizes_are_checked()
    {
        var encoder = Make();
        Assert.Contains("masks must be (B, 1, 36, 36); got (1, 1, 32, 32)",
            Assert.Throws<ArgumentException>(() => encoder.forward(null, null, null, zeros(1, 1, 32, 32))).Message);
        Assert.Contains("boxes has batch size 2 but an earlier prompt has 1",
            Assert.Throws<ArgumentException>(() => encoder.forward(zeros(1, 1, 2), zeros(1, 1, ScalarType.Int64), zeros(2, 4), null)).Message);
        Assert.Contains("pointLabels must be (B, N) = (1, 3); got (1, 2)",
            Assert.Throws<ArgumentException>(() => encoder.forward(zeros(1, 3, 2), zeros(1, 2, ScalarType.Int64), null, null)).Message);
        Assert.Contains("given together", Assert.Throws<ArgumentException>(() => encoder.forward(zeros(1, 3, 2), null, null, null)).Message);
    }
}
