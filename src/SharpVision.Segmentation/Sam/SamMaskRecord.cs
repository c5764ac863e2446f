using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>One mask found by <see cref="SamAutomaticMaskGenerator"/>, with the fields of the reference's records.</summary>
/// <param name="Segmentation">(H, W) bool mask in the image's size.</param>
/// <param name="Area">Pixels in the mask.</param>
/// <param name="Bbox">Inclusive bounding box as (x, y, w, h), w = x1 − x0 as the reference.</param>
/// <param name="PredictedIou">The model's quality estimate.</param>
/// <param name="PointCoords">The grid point (x, y) that prompted the mask, in image pixels.</param>
/// <param name="StabilityScore">IoU of the mask thresholded at ±offset.</param>
/// <param name="CropBox">The crop the mask came from, as (x, y, w, h).</param>
public sealed record SamMaskRecord(Tensor Segmentation, long Area, (int X, int Y, int W, int H) Bbox, double PredictedIou,
    (double X, double Y) PointCoords, double StabilityScore, (int X, int Y, int W, int H) CropBox) : IDisposable
{
    /// <summary>Disposes the mask tensor.</summary>
    public void Dispose() => Segmentation.Dispose();
}
