using SharpVision.Segmentation.Sam;
using static TorchSharp.torch;

namespace SharpVision.Experiments.Sam;

/// <summary>The prompts for one object: clicks (possibly none) and an optional box.</summary>
public sealed record ObjectPrompt(IReadOnlyList<PromptPoint> Points, PixelBox? Box);

/// <summary>What the decoder returns for the objects of one scene.</summary>
/// <param name="LowRes">(K, M, 4h, 4w) mask logits at the decoder's resolution (the next round's mask input).</param>
/// <param name="Masks">(K, M, S, S) mask logits upscaled to the canvas.</param>
/// <param name="IouPred">(K, M) predicted IoU.</param>
public sealed record SceneDecoding(Tensor LowRes, Tensor Masks, Tensor IouPred) : IDisposable
{
    /// <summary>Frees the tensors.</summary>
    public void Dispose() { LowRes.Dispose(); Masks.Dispose(); IouPred.Dispose(); }
}

/// <summary>
/// Runs a SAM model on synthetic scenes whose canvas is the model input (no resizing): the image
/// encoder once per batch of scenes, then the prompt encoder and mask decoder once per scene with one
/// prompt per object, as segment-anything modeling/sam.py <c>Sam.forward</c> does per image.
/// </summary>
public static class SamSceneRunner
{
    /// <summary>The scenes as a normalised model input.</summary>
    /// <returns>(B, 3, S, S) in the model's dtype.</returns>
    /// <exception cref="ArgumentException">A scene's canvas is not the model's input size.</exception>
    public static Tensor ImageBatch(SamModel model, IReadOnlyList<SegmentationScene> scenes)
    {
        long s = model.image_encoder.ImgSize;
        foreach (var scene in scenes)
            if (scene.Size != s) throw new ArgumentException($"scene canvas must be {s}×{s} (the model's image_size); got {scene.Size}×{scene.Size}", nameof(scenes));
        using var scope = NewDisposeScope();
        var bytes = scenes.SelectMany(sc => sc.Rgb).ToArray();
        var hwc = tensor(bytes, [scenes.Count, s, s, 3]);
        var x = model.Preprocess(hwc.permute(0, 3, 1, 2)); // (B, S, S, 3) -> (B, 3, S, S)
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Decodes one prompt per object of one scene. All prompts must have the same number of clicks and all or none a box.</summary>
    /// <param name="embedding">(1, C, h, w) the scene's image embedding.</param>
    /// <param name="maskInput">(K, 1, 4h, 4w) previous low-resolution logits, or null.</param>
    public static SceneDecoding Decode(SamModel model, Tensor embedding, IReadOnlyList<ObjectPrompt> prompts, Tensor? maskInput, bool multimask)
    {
        int k = prompts.Count, n = prompts[0].Points.Count;
        bool boxes = prompts[0].Box is not null;
        if (prompts.Any(p => p.Points.Count != n || (p.Box is not null) != boxes))
            throw new ArgumentException("all prompts of a scene must have the same number of points and all or none a box", nameof(prompts));
        using var scope = NewDisposeScope();
        var device = embedding.device;
        Tensor? coords = null, labels = null, box = null;
        if (n > 0)
        {
            coords = tensor(prompts.SelectMany(p => p.Points.SelectMany(q => new float[] { q.X, q.Y })).ToArray(), [k, n, 2], device: device);
            labels = tensor(prompts.SelectMany(p => p.Points.Select(q => (long)q.Label)).ToArray(), [k, n], device: device);
        }
        if (boxes)
            box = tensor(prompts.SelectMany(p => new[] { (float)p.Box!.Value.X0, (float)p.Box.Value.Y0, (float)p.Box.Value.X1, (float)p.Box.Value.Y1 }).ToArray(), [k, 4], device: device);
        var (sparse, dense) = model.prompt_encoder.call(coords, labels, box, maskInput);
        var (lowRes, iou) = model.mask_decoder.call(embedding, model.prompt_encoder.GetDensePe(), sparse, dense, multimask);
        long s = model.image_encoder.ImgSize;
        var masks = nn.functional.interpolate(lowRes, size: [s, s], mode: InterpolationMode.Bilinear, align_corners: false);
        return new SceneDecoding(lowRes.MoveToOuterDisposeScope(), masks.MoveToOuterDisposeScope(), iou.MoveToOuterDisposeScope());
    }

    /// <summary>The ground-truth masks of a scene's objects.</summary>
    /// <returns>(K, S, S) float 0/1.</returns>
    public static Tensor Targets(SegmentationScene scene, ScalarType dtype, Device? device = null) =>
        tensor(scene.Objects.SelectMany(o => o.Mask.Select(m => m ? 1f : 0f)).ToArray(), [scene.Objects.Count, scene.Size, scene.Size], device: device).to(dtype);

    /// <summary>Binarised mask (logit &gt; 0) of one object as a flat array.</summary>
    /// <param name="masks">(S, S) logits.</param>
    public static bool[] Binary(Tensor masks) => masks.gt(0).flatten().cpu().data<bool>().ToArray();
}
