using SharpVision.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Prompts SAM on one image: <see cref="SetImage(byte[], int, int, string)"/> runs the image encoder once,
/// then <see cref="Predict"/> (or the batched <see cref="PredictTorch"/>) decodes masks for any number of
/// prompts from the cached embedding. Follows segment-anything predictor.py <c>SamPredictor</c> (dca509f).
/// Works in the model's dtype and device, in inference mode (its outputs are inference tensors); not thread-safe.
/// </summary>
public sealed class SamPredictor : IDisposable
{
    Tensor? features;
    Tensor? densePe; // the prompt encoder's grid encoding: constant, so computed once per image rather than per prompt

    /// <summary>The model predictions come from.</summary>
    public SamModel Model { get; }
    /// <summary>The resize to the model's input size.</summary>
    public ResizeLongestSide Transform { get; }
    /// <summary>Whether an image embedding is cached.</summary>
    public bool IsImageSet => features is not null;
    /// <summary>(H, W) of the image given to <c>SetImage</c>.</summary>
    public (int H, int W) OriginalSize { get; private set; }
    /// <summary>(H, W) of the resized image before padding.</summary>
    public (int H, int W) InputSize { get; private set; }

    /// <param name="model">The model; the predictor does not own it.</param>
    public SamPredictor(SamModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Transform = new ResizeLongestSide((int)model.image_encoder.ImgSize);
    }

    /// <summary>The cached image embedding (1, C, h, w).</summary>
    /// <exception cref="InvalidOperationException">No image has been set.</exception>
    public Tensor GetImageEmbedding() => features ?? throw NotSet();

    /// <summary>Resizes (longest side to the model's input size, Pillow-style bilinear), normalises and encodes an image.</summary>
    /// <param name="image">(height, width, 3) uint8 pixels, row-major, channels interleaved.</param>
    /// <param name="height">Image height (> 0).</param>
    /// <param name="width">Image width (> 0).</param>
    /// <param name="imageFormat">"RGB" or "BGR".</param>
    /// <exception cref="ArgumentException">Empty image, wrong byte count, or unknown format.</exception>
    public void SetImage(byte[] image, int height, int width, string imageFormat = "RGB")
    {
        ArgumentNullException.ThrowIfNull(image);
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"image must be non-empty; got height {height}, width {width}", nameof(image));
        if (image.LongLength != (long)height * width * 3)
            throw new ArgumentException($"image must be (height, width, 3) = ({height}, {width}, 3) uint8, {(long)height * width * 3} bytes; got {image.LongLength} bytes", nameof(image));
        bool flip = CheckFormat(imageFormat);
        var pixels = flip ? SwapRedBlue(image) : image;
        var (resized, h, w) = Transform.ApplyImage(pixels, height, width);
        using var scope = NewDisposeScope();
        // (h, w, 3) -> (1, 3, h, w)
        var t = tensor(resized, [h, w, 3], ScalarType.Byte).to(Model.Device).permute(2, 0, 1).contiguous().unsqueeze(0);
        SetTorchImage(t, (height, width));
    }

    /// <summary>As <see cref="SetImage(byte[], int, int, string)"/>, from an (H, W, 3) uint8 tensor.</summary>
    public void SetImage(Tensor image, string imageFormat = "RGB")
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 3 || image.shape[2] != 3 || image.dtype != ScalarType.Byte)
            throw new ArgumentException($"image must be (H, W, 3) uint8; got {Shapes.Format(image)} {image.dtype}", nameof(image));
        if (image.shape[0] == 0 || image.shape[1] == 0)
            throw new ArgumentException($"image must be non-empty; got {Shapes.Format(image)}", nameof(image));
        using var cpu = image.cpu().contiguous();
        SetImage(cpu.data<byte>().ToArray(), (int)image.shape[0], (int)image.shape[1], imageFormat);
    }

    /// <summary>Encodes an image already resized so its longest side is the model's input size.</summary>
    /// <param name="transformedImage">(1, 3, h, w) RGB on the 0–255 scale, max(h, w) = image size.</param>
    /// <param name="originalImageSize">(H, W) of the image before resizing.</param>
    /// <exception cref="ArgumentException">Wrong shape, or a side is not the model's input size.</exception>
    public void SetTorchImage(Tensor transformedImage, (int H, int W) originalImageSize)
    {
        ArgumentNullException.ThrowIfNull(transformedImage);
        long s = Model.image_encoder.ImgSize;
        if (transformedImage.dim() != 4 || transformedImage.shape[0] != 1 || transformedImage.shape[1] != 3 ||
            Math.Max(transformedImage.shape[2], transformedImage.shape[3]) != s)
            throw new ArgumentException($"transformedImage must be (1, 3, h, w) with longest side {s}; got {Shapes.Format(transformedImage)}", nameof(transformedImage));
        if (originalImageSize.H <= 0 || originalImageSize.W <= 0)
            throw new ArgumentException($"originalImageSize must be positive; got ({originalImageSize.H}, {originalImageSize.W})", nameof(originalImageSize));
        ResetImage();
        using var scope = NewDisposeScope();
        // Inference mode, stronger than the reference's no_grad: no version counters or autograd metadata on the
        // encoder's intermediates. The embedding is then an inference tensor: read it, do not train through it.
        using var inference = inference_mode();
        var input = Model.Preprocess(transformedImage.to(Model.Device));
        // The predictor owns the embedding until ResetImage, whatever scope the caller runs in.
        features = Model.image_encoder.call(input).DetachFromDisposeScope();
        densePe = Model.prompt_encoder.GetDensePe().DetachFromDisposeScope();
        OriginalSize = originalImageSize;
        InputSize = ((int)transformedImage.shape[2], (int)transformedImage.shape[3]);
    }

    /// <summary>
    /// Saves the current image embedding with what it was computed from (<see cref="SamImageEmbedding"/>), so a
    /// later session can <see cref="LoadImageEmbedding"/> it and answer prompts without running the image encoder.
    /// </summary>
    /// <param name="path">The safetensors file to write (atomically).</param>
    /// <exception cref="InvalidOperationException">No image has been set.</exception>
    public void SaveImageEmbedding(string path)
    {
        var embedding = features ?? throw NotSet();
        SamImageEmbedding.For(Model.Config, InputSize, OriginalSize).Save(embedding, path);
    }

    /// <summary>Sets the current image from a saved embedding instead of encoding it (prompts then work as after <c>SetImage</c>).</summary>
    /// <param name="path">A file written by <see cref="SaveImageEmbedding"/>.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not an embedding file, or one of another model type, encoder size or
    /// image size; the message names the file's and this model's.</exception>
    public void LoadImageEmbedding(string path)
    {
        var info = SamImageEmbedding.Read(path);
        info.CheckMatches(Model.Config, path);
        var loaded = info.LoadTensor(path);
        ResetImage();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var moved = loaded.to(Model.Dtype, Model.Device);
        if (!ReferenceEquals(moved, loaded)) loaded.Dispose();
        features = moved.DetachFromDisposeScope();
        densePe = Model.prompt_encoder.GetDensePe().DetachFromDisposeScope();
        OriginalSize = info.OriginalSize;
        InputSize = info.InputSize;
    }

    /// <summary>Predicts masks for one prompt on the current image. Coordinates are original-image pixels.</summary>
    /// <param name="pointCoords">N points (x, y), each inside the image (0 ≤ x ≤ W, 0 ≤ y ≤ H).</param>
    /// <param name="pointLabels">N labels: 1 foreground, 0 background, −1 ignored, 2/3 box corners.</param>
    /// <param name="box">A box (x0, y0, x1, y1) inside the image with x0 ≤ x1, y0 ≤ y1.</param>
    /// <param name="maskInput">(1, 4h, 4w) low-resolution logits, typically a previous prediction's.</param>
    /// <param name="multimaskOutput">Three masks (best for ambiguous prompts such as one click) or one.</param>
    /// <param name="returnLogits">Return mask logits instead of boolean masks.</param>
    /// <returns>Masks (C, H, W), IoU predictions (C) and low-resolution logits (C, 4h, 4w), C = 3 or 1.</returns>
    /// <exception cref="InvalidOperationException">No image has been set.</exception>
    /// <exception cref="ArgumentException">A point or box outside the image, an unknown label, a reversed box,
    /// mismatched point and label counts, or a mask of the wrong shape.</exception>
    public SamPrediction Predict(IReadOnlyList<(double X, double Y)>? pointCoords = null, IReadOnlyList<int>? pointLabels = null,
        (double X0, double Y0, double X1, double Y1)? box = null, Tensor? maskInput = null, bool multimaskOutput = true, bool returnLogits = false)
    {
        if (!IsImageSet) throw NotSet();
        if ((pointCoords is null) != (pointLabels is null))
            throw new ArgumentException("pointCoords and pointLabels must be given together", pointCoords is null ? nameof(pointLabels) : nameof(pointCoords));
        using var scope = NewDisposeScope();
        Tensor? coords = null, labels = null, boxes = null, masks = null;
        if (pointCoords is not null && pointLabels is not null)
        {
            if (pointCoords.Count != pointLabels.Count)
                throw new ArgumentException($"pointLabels must have one label per point ({pointCoords.Count}); got {pointLabels.Count}", nameof(pointLabels));
            for (int i = 0; i < pointCoords.Count; i++) CheckInside(pointCoords[i].X, pointCoords[i].Y, $"pointCoords[{i}]", nameof(pointCoords));
            var flat = pointCoords.SelectMany(p => new[] { p.X, p.Y }).ToArray();
            coords = Transform.ApplyCoords(tensor(flat, [pointCoords.Count, 2], ScalarType.Float64), OriginalSize).unsqueeze(0);
            labels = tensor(pointLabels.Select(l => (long)l).ToArray(), [1, pointLabels.Count], ScalarType.Int64);
            PromptEncoder.CheckLabels(labels);
        }
        if (box is { } b)
        {
            CheckBox(b);
            boxes = Transform.ApplyBoxes(tensor(new[] { b.X0, b.Y0, b.X1, b.Y1 }, [1, 4], ScalarType.Float64), OriginalSize);
        }
        if (maskInput is not null)
        {
            var (mh, mw) = Model.prompt_encoder.MaskInputSize;
            if (maskInput.dim() != 3 || maskInput.shape[0] != 1 || maskInput.shape[1] != mh || maskInput.shape[2] != mw)
                throw new ArgumentException($"maskInput must be (1, {mh}, {mw}); got {Shapes.Format(maskInput)}", nameof(maskInput));
            masks = maskInput.unsqueeze(0);
        }
        // Prompts in the model's dtype, as the reference's predict() casts them to its float32.
        var dtype = Model.Dtype;
        var batched = PredictTorch(coords?.to(dtype), labels, boxes?.to(dtype), masks, multimaskOutput, returnLogits);
        var result = new SamPrediction(batched.Masks[0].MoveToOuterDisposeScope(), batched.IouPredictions[0].MoveToOuterDisposeScope(),
            batched.LowResLogits[0].MoveToOuterDisposeScope());
        return result;
    }

    /// <summary>
    /// Predicts masks for a batch of B prompts on the current image (e.g. one box each). Prompts are
    /// already in the resized frame (<see cref="Transform"/>'s <c>ApplyCoords</c>/<c>ApplyBoxes</c>).
    /// </summary>
    /// <param name="pointCoords">(B, N, 2) or null; normalised in its own floating dtype, as the reference's predict_torch.</param>
    /// <param name="pointLabels">(B, N) integer labels, given with <paramref name="pointCoords"/>.</param>
    /// <param name="boxes">(B, 4) or null.</param>
    /// <param name="maskInput">(B, 1, 4h, 4w) or null.</param>
    /// <param name="multimaskOutput">Three masks per prompt or one.</param>
    /// <param name="returnLogits">Return mask logits instead of boolean masks.</param>
    /// <returns>Masks (B, C, H, W) in original image size, IoU predictions (B, C), low-resolution logits (B, C, 4h, 4w).</returns>
    /// <exception cref="InvalidOperationException">No image has been set.</exception>
    /// <exception cref="ArgumentException">Shapes or labels are wrong (see <see cref="PromptEncoder.forward"/>).</exception>
    public SamPrediction PredictTorch(Tensor? pointCoords, Tensor? pointLabels, Tensor? boxes = null, Tensor? maskInput = null,
        bool multimaskOutput = true, bool returnLogits = false)
    {
        if (features is null) throw NotSet();
        if (boxes is not null && boxes.dim() == 2 && boxes.shape[1] == 4) CheckBoxOrder(boxes);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var device = Model.Device;
        var (sparse, dense) = Model.prompt_encoder.call(pointCoords?.to(device), pointLabels?.to(device), boxes?.to(device), maskInput?.to(device));
        var (lowRes, iou) = Model.mask_decoder.call(features, densePe!, sparse, dense, multimaskOutput);
        var masks = Model.PostprocessMasks(lowRes, InputSize, OriginalSize);
        if (!returnLogits) masks = masks.gt(SamModel.MaskThreshold);
        return new SamPrediction(masks.MoveToOuterDisposeScope(), iou.MoveToOuterDisposeScope(), lowRes.MoveToOuterDisposeScope());
    }

    /// <summary>Forgets the current image and its embedding.</summary>
    public void ResetImage()
    {
        features?.Dispose();
        features = null;
        densePe?.Dispose();
        densePe = null;
        OriginalSize = default;
        InputSize = default;
    }

    /// <summary>Disposes the cached embedding (the model stays).</summary>
    public void Dispose() => ResetImage();

    static InvalidOperationException NotSet() => new("An image must be set with SetImage before predicting masks or reading the embedding.");

    static bool CheckFormat(string imageFormat) => imageFormat switch
    {
        "RGB" => false,
        "BGR" => true,
        _ => throw new ArgumentException($"imageFormat must be \"RGB\" or \"BGR\"; got \"{imageFormat}\"", nameof(imageFormat)),
    };

    static byte[] SwapRedBlue(byte[] image)
    {
        var swapped = (byte[])image.Clone();
        for (long i = 0; i < swapped.LongLength; i += 3) (swapped[i], swapped[i + 2]) = (swapped[i + 2], swapped[i]);
        return swapped;
    }

    void CheckInside(double x, double y, string what, string paramName)
    {
        var (h, w) = OriginalSize;
        if (!(x >= 0 && x <= w && y >= 0 && y <= h))
            throw new ArgumentException($"{what} = ({x}, {y}) is outside the {w}x{h} image (x must be in [0, {w}], y in [0, {h}])", paramName);
    }

    void CheckBox((double X0, double Y0, double X1, double Y1) b)
    {
        if (!(b.X1 >= b.X0) || !(b.Y1 >= b.Y0))
            throw new ArgumentException($"box must be (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1; got ({b.X0}, {b.Y0}, {b.X1}, {b.Y1})", "box");
        CheckInside(b.X0, b.Y0, "box corner (x0, y0)", "box");
        CheckInside(b.X1, b.Y1, "box corner (x1, y1)", "box");
    }

    static void CheckBoxOrder(Tensor boxes)
    {
        using var scope = NewDisposeScope();
        var b = boxes.to(ScalarType.Float64);
        var bad = b.select(1, 2).lt(b.select(1, 0)).logical_or(b.select(1, 3).lt(b.select(1, 1)));
        if (bad.any().item<bool>())
        {
            long i = bad.nonzero()[0, 0].item<long>();
            var row = b[i].data<double>().ToArray();
            throw new ArgumentException($"boxes[{i}] must be (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1; got ({string.Join(", ", row)})", nameof(boxes));
        }
    }
}
