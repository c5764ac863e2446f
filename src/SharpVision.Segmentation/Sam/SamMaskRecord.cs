using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>One mask found by <see cref="SamAutomaticMaskGenerator"/>, with the fields of the reference's records.</summary>
/// <param name="Rle">The mask's run lengths (the reference's <c>uncompressed_rle</c> segmentation), always present.</param>
/// <param name="Segmentation">(H, W) bool mask in the image's size when the output mode is <c>binary_mask</c>, else null.</param>
/// <param name="CocoCounts">pycocotools' compressed counts string when the output mode is <c>coco_rle</c>, else null.</param>
/// <param name="Area">Pixels in the mask.</param>
/// <param name="Bbox">Inclusive bounding box as (x, y, w, h), w = x1 − x0 as the reference.</param>
/// <param name="PredictedIou">The model's quality estimate.</param>
/// <param name="PointCoords">The grid point (x, y) that prompted the mask, in image pixels.</param>
/// <param name="StabilityScore">IoU of the mask thresholded at ±offset.</param>
/// <param name="CropBox">The crop the mask came from, as (x, y, w, h).</param>
public sealed record SamMaskRecord(SamRle Rle, Tensor? Segmentation, string? CocoCounts, long Area, (int X, int Y, int W, int H) Bbox,
    double PredictedIou, (double X, double Y) PointCoords, double StabilityScore, (int X, int Y, int W, int H) CropBox) : IDisposable
{
    /// <summary>Disposes the mask tensor, if any.</summary>
    public void Dispose() => Segmentation?.Dispose();
}
