using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
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
                Assert.Equal(new long[] { 48, 64 }, r.Segmentation.shape);
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
}
