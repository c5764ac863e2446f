using SharpVision.Diffusion.ControlNet;

namespace SharpVision.Tests.ControlNet;

/// <summary>
/// Fixture kind <c>canny</c>: cv2.Canny's edge map of the RGB image, and cv2.cvtColor's grey image, both exactly (the
/// case would allow a small fraction of pixels to differ; none do). cv2.Canny does not convert a colour image to grey:
/// it takes each pixel's strongest channel gradient, so the edges are compared with the RGB run (the grey image's
/// edges differ in hundreds of pixels).
/// </summary>
public sealed class CannyParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["canny"];

    public void Run(ParityCase c, Precision p)
    {
        var rgb = c.Raw("image_rgb"); // (H, W, 3) uint8
        int h = (int)rgb.shape[0], w = (int)rgb.shape[1];
        var gray = Canny.RgbToGray(rgb.data<byte>().ToArray(), h, w);
        ParityCase.AssertClose($"{c.Name} gray", tensor(gray, [h, w], ScalarType.Byte), c.Raw("gray"), 0, 0);

        var edges = Canny.Detect(rgb, c.Double("low_threshold")!.Value, c.Double("high_threshold")!.Value,
            (int)c.Long("aperture_size")!.Value, c.Bool("l2_gradient")); // (H, W) uint8
        ParityCase.AssertClose($"{c.Name} expected_edges", edges, c.Raw("expected_edges"), 0, 0);
    }
}
