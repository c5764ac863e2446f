using static TorchSharp.torch;

namespace SharpVision.Segmentation.Training;

/// <summary>
/// The losses SAM is trained with (Kirillov et al. 2023, §3 "Losses and training"): focal and dice loss
/// on the mask logits in a 20:1 ratio, and mean-squared error between the IoU head's prediction and the
/// IoU the predicted mask actually has. Focal loss follows torchvision's <c>sigmoid_focal_loss</c>
/// (α = 0.25, γ = 2); dice is the soft dice on sigmoid probabilities with +1 smoothing.
/// </summary>
public static class SamLoss
{
    /// <summary>Focal : dice weight of the paper.</summary>
    public const double FocalWeight = 20, DiceWeight = 1;

    /// <summary>Sigmoid focal loss averaged over pixels.</summary>
    /// <param name="logits">(..., H, W) mask logits.</param>
    /// <param name="target">(..., H, W) 0/1 ground truth, broadcast to the logits' shape.</param>
    /// <returns>(...) one loss per mask.</returns>
    public static Tensor Focal(Tensor logits, Tensor target, double alpha = 0.25, double gamma = 2)
    {
        using var scope = NewDisposeScope();
        target = target.expand_as(logits);
        var p = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.None);
        var pt = p * target + (1 - p) * (1 - target);
        var loss = ce * (1 - pt).pow(gamma);
        if (alpha >= 0) loss = (alpha * target + (1 - alpha) * (1 - target)) * loss;
        return loss.flatten(-2).mean([-1]).MoveToOuterDisposeScope();
    }

    /// <summary>Soft dice loss 1 − (2|p·t| + 1) / (|p| + |t| + 1) on sigmoid probabilities.</summary>
    /// <param name="logits">(..., H, W) mask logits.</param>
    /// <param name="target">(..., H, W) 0/1 ground truth.</param>
    /// <returns>(...) one loss per mask.</returns>
    public static Tensor Dice(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        var p = logits.sigmoid().flatten(-2);
        var t = target.expand_as(logits).flatten(-2);
        var numerator = 2 * (p * t).sum([-1]);
        var denominator = p.sum([-1]) + t.sum([-1]);
        return (1 - (numerator + 1) / (denominator + 1)).MoveToOuterDisposeScope();
    }

    /// <summary>The IoU of the binarised prediction (logit &gt; 0) with the ground truth; 1 when both are empty. No gradient.</summary>
    /// <param name="logits">(..., H, W).</param>
    /// <param name="target">(..., H, W) 0/1.</param>
    /// <returns>(...) IoU in [0, 1].</returns>
    public static Tensor ActualIou(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pred = logits.gt(0).flatten(-2);
        var t = target.expand_as(logits).gt(0.5).flatten(-2);
        var inter = pred.logical_and(t).sum([-1]).to(ScalarType.Float32);
        var union = pred.logical_or(t).sum([-1]).to(ScalarType.Float32);
        var iou = where(union.gt(0), inter / union.clamp_min(1), ones_like(union));
        return iou.to(logits.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>20·focal + dice for each mask.</summary>
    /// <returns>(...) per-mask loss.</returns>
    public static Tensor MaskLoss(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        return (FocalWeight * Focal(logits, target) + DiceWeight * Dice(logits, target)).MoveToOuterDisposeScope();
    }
}
