using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>What <see cref="SamPredictor"/> returns for a prompt.</summary>
/// <param name="Masks">Masks in original image coordinates: bool (C, H, W) from <c>Predict</c>, (B, C, H, W)
/// from <c>PredictTorch</c>; logits in the model's dtype when logits were asked for.</param>
/// <param name="IouPredictions">The model's estimate of each mask's IoU: (C) or (B, C).</param>
/// <param name="LowResLogits">Low-resolution logits, (C, 4h, 4w) or (B, C, 4h, 4w) (256×256 for the
/// official models); one of them, unsqueezed to (1, 4h, 4w), can be fed back as <c>maskInput</c>.</param>
public sealed record SamPrediction(Tensor Masks, Tensor IouPredictions, Tensor LowResLogits) : IDisposable
{
    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        Masks.Dispose();
        IouPredictions.Dispose();
        LowResLogits.Dispose();
    }
}
