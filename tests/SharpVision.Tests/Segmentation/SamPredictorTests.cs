using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class SamPredictorTests : IDisposable
{
    readonly ParityCase fixture = ParityCase.Load("sam/sam_tiny_point");
    readonly SamModel sam;
    readonly SamPredictor predictor;
    readonly byte[] image;

    public SamPredictorTests()
    {
        sam = SamPredictorParity.LoadModel(fixture, ScalarType.Float32);
        predictor = new SamPredictor(sam);
        image = fixture.Raw("image").contiguous().data<byte>().ToArray();
    }

    public void Dispose()
    {
        predictor.Dispose();
        sam.Dispose();
        fixture.Dispose();
    }

    void SetFixtureImage() => predictor.SetImage(image, 50, 37);

    [Fact]
    public void SetImage_from_bytes_equals_the_reference_embedding()
    {
        SetFixtureImage();
        Assert.Equal((50, 37), predictor.OriginalSize);
        Assert.Equal((72, 53), predictor.InputSize);
        ParityCase.AssertClose("embedding", predictor.GetImageEmbedding()[0], fixture.Raw("expected_image_embeddings"), 1e-4, 1e-4);
    }

    [Fact]
    public void Bgr_input_is_flipped_to_rgb()
    {
        SetFixtureImage();
        var rgb = predictor.GetImageEmbedding().clone();
        var bgr = (byte[])image.Clone();
        for (int i = 0; i < bgr.Length; i += 3) (bgr[i], bgr[i + 2]) = (bgr[i + 2], bgr[i]);
        predictor.SetImage(bgr, 50, 37, "BGR");
        Assert.True(predictor.GetImageEmbedding().allclose(rgb, 0, 0));
    }

    [Fact]
    public void Predict_returns_original_size_masks_and_feedable_logits()
    {
        SetFixtureImage();
        using var first = predictor.Predict([(20, 30)], [1]);
        Assert.Equal(ScalarType.Bool, first.Masks.dtype);
        Assert.Equal(new long[] { 3, 50, 37 }, first.Masks.shape);
        Assert.Equal(new long[] { 3 }, first.IouPredictions.shape);
        Assert.Equal(new long[] { 3, 36, 36 }, first.LowResLogits.shape);
        ParityCase.AssertClose("iou", first.IouPredictions, fixture.Raw("expected_iou_predictions")[0], 1e-4, 1e-4);

        long best = first.IouPredictions.argmax().item<long>();
        using var refined = predictor.Predict([(20, 30), (5, 5)], [1, 0], maskInput: first.LowResLogits[best].unsqueeze(0), multimaskOutput: false, returnLogits: true);
        Assert.Equal(ScalarType.Float32, refined.Masks.dtype);
        Assert.Equal(new long[] { 1, 50, 37 }, refined.Masks.shape);
    }

    [Fact]
    public void PredictTorch_batches_boxes_like_separate_predictions()
    {
        SetFixtureImage();
        (double, double, double, double)[] boxes = [(1, 2, 20, 25), (10, 5, 36, 49)];
        var flat = boxes.SelectMany(b => new[] { b.Item1, b.Item2, b.Item3, b.Item4 }).ToArray();
        var transformed = predictor.Transform.ApplyBoxes(tensor(flat, [2, 4]), predictor.OriginalSize);
        using var batched = predictor.PredictTorch(null, null, transformed, multimaskOutput: false, returnLogits: true);
        Assert.Equal(new long[] { 2, 1, 50, 37 }, batched.Masks.shape);
        for (int i = 0; i < boxes.Length; i++)
        {
            using var single = predictor.Predict(box: boxes[i], multimaskOutput: false, returnLogits: true);
            Assert.True(batched.Masks[i].allclose(single.Masks, 1e-5, 1e-5));
            Assert.True(batched.IouPredictions[i].allclose(single.IouPredictions, 1e-5, 1e-5));
        }
    }

    [Fact]
    public void Predict_before_SetImage_says_so()
    {
        var e = Assert.Throws<InvalidOperationException>(() => predictor.Predict([(1, 1)], [1]));
        Assert.Contains("SetImage", e.Message);
        Assert.Throws<InvalidOperationException>(() => predictor.PredictTorch(null, null, zeros(1, 4)));
        Assert.Throws<InvalidOperationException>(() => predictor.GetImageEmbedding());
    }

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(10, 50.5)]
    [InlineData(37.01, 0)]
    [InlineData(double.NaN, 3)]
    public void Points_outside_the_image_are_rejected(double x, double y)
    {
        SetFixtureImage();
        var e = Assert.Throws<ArgumentException>(() => predictor.Predict([(5, 5), (x, y)], [1, 1]));
        Assert.Contains("pointCoords[1]", e.Message);
        Assert.Contains("outside the 37x50 image", e.Message);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(-2)]
    [InlineData(17)]
    public void Unknown_labels_are_rejected(int label)
    {
        SetFixtureImage();
        var e = Assert.Throws<ArgumentException>(() => predictor.Predict([(5, 5)], [label]));
        Assert.Contains($"got {label}", e.Message);
        Assert.Equal("pointLabels", e.ParamName);
    }

    [Fact]
    public void Reversed_or_outside_boxes_are_rejected()
    {
        SetFixtureImage();
        Assert.Contains("x0 <= x1 and y0 <= y1; got (20, 2, 10, 25)",
            Assert.Throws<ArgumentException>(() => predictor.Predict(box: (20, 2, 10, 25))).Message);
        Assert.Contains("x0 <= x1 and y0 <= y1; got (1, 30, 10, 25)",
            Assert.Throws<ArgumentException>(() => predictor.Predict(box: (1, 30, 10, 25))).Message);
        Assert.Contains("box corner (x1, y1)",
            Assert.Throws<ArgumentException>(() => predictor.Predict(box: (1, 2, 10, 60))).Message);
        Assert.Contains("boxes[1] must be (x0, y0, x1, y1) with x0 <= x1",
            Assert.Throws<ArgumentException>(() => predictor.PredictTorch(null, null, tensor(new[] { 0f, 0f, 5f, 5f, 9f, 0f, 3f, 5f }, [2, 4]))).Message);
    }

    [Fact]
    public void Mismatched_prompts_and_masks_are_rejected()
    {
        SetFixtureImage();
        Assert.Contains("one label per point (2); got 1",
            Assert.Throws<ArgumentException>(() => predictor.Predict([(1, 1), (2, 2)], [1])).Message);
        Assert.Contains("given together", Assert.Throws<ArgumentException>(() => predictor.Predict([(1, 1)], null)).Message);
        Assert.Contains("maskInput must be (1, 36, 36); got (1, 256, 256)",
            Assert.Throws<ArgumentException>(() => predictor.Predict([(1, 1)], [1], maskInput: zeros(1, 256, 256))).Message);
    }

    [Fact]
    public void Empty_or_malformed_images_are_rejected()
    {
        Assert.Contains("non-empty; got height 0, width 37", Assert.Throws<ArgumentException>(() => predictor.SetImage([], 0, 37)).Message);
        Assert.Contains("non-empty; got (0, 5, 3)", Assert.Throws<ArgumentException>(() => predictor.SetImage(zeros([0, 5, 3], ScalarType.Byte))).Message);
        Assert.Contains("5550 bytes; got 100", Assert.Throws<ArgumentException>(() => predictor.SetImage(new byte[100], 50, 37)).Message);
        Assert.Contains("\"RGB\" or \"BGR\"; got \"RGBA\"", Assert.Throws<ArgumentException>(() => predictor.SetImage(image, 50, 37, "RGBA")).Message);
        Assert.Contains("(H, W, 3) uint8", Assert.Throws<ArgumentException>(() => predictor.SetImage(zeros([4, 4, 3]))).Message);
        Assert.Contains("longest side 72", Assert.Throws<ArgumentException>(() => predictor.SetTorchImage(zeros(1, 3, 50, 37), (50, 37))).Message);
        Assert.False(predictor.IsImageSet);
    }
}
