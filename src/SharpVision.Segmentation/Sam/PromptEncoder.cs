using SharpVision.Nn.Activations;
using SharpVision.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Encodes SAM prompts: points and box corners become sparse tokens (random Fourier position encoding
/// plus a learned embedding per kind), a low-resolution mask becomes a dense embedding through a small
/// strided convolution stack (or the learned <c>no_mask_embed</c> everywhere when there is no mask).
/// Follows segment-anything modeling/prompt_encoder.py <c>PromptEncoder</c> (dca509f).
/// </summary>
/// <remarks>
/// Point labels: 1 foreground, 0 background, −1 padding ("not a point": the position encoding is
/// dropped), 2 and 3 the top-left and bottom-right corners of a box given as points (the embeddings
/// <c>point_embeddings.2/3</c>, as segment-anything's ONNX export encodes boxes).
/// </remarks>
public sealed class PromptEncoder : nn.Module<Tensor?, Tensor?, Tensor?, Tensor?, (Tensor Sparse, Tensor Dense)>
{
    public readonly PositionEmbeddingRandom pe_layer;
    public readonly ModuleList<Embedding> point_embeddings;
    public readonly Embedding not_a_point_embed;
    public readonly Sequential mask_downscaling;
    public readonly Embedding no_mask_embed;

    /// <summary>Prompt token width.</summary>
    public long EmbedDim { get; }
    /// <summary>(H, W) of the image embedding.</summary>
    public (long H, long W) ImageEmbeddingSize { get; }
    /// <summary>(H, W) of the padded model input the point coordinates refer to.</summary>
    public (long H, long W) InputImageSize { get; }
    /// <summary>(H, W) of mask inputs: four times the image embedding.</summary>
    public (long H, long W) MaskInputSize => (4 * ImageEmbeddingSize.H, 4 * ImageEmbeddingSize.W);

    /// <summary>Number of learned point embeddings: negative, positive, box top-left, box bottom-right.</summary>
    public const int NumPointEmbeddings = 4;

    /// <param name="embedDim">Prompt token width (even).</param>
    /// <param name="imageEmbeddingSize">(H, W) of the image embedding.</param>
    /// <param name="inputImageSize">(H, W) of the padded model input.</param>
    /// <param name="maskInChans">Hidden channels of the mask downscaling (divisible by 4).</param>
    public PromptEncoder(long embedDim, (long H, long W) imageEmbeddingSize, (long H, long W) inputImageSize, long maskInChans)
        : base(nameof(PromptEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        if (embedDim % 2 != 0) throw new ArgumentException($"embed_dim must be even; got {embedDim}", nameof(embedDim));
        if (maskInChans % 4 != 0 || maskInChans <= 0)
            throw new ArgumentException($"mask_in_chans must be a positive multiple of 4; got {maskInChans}", nameof(maskInChans));
        EmbedDim = embedDim;
        ImageEmbeddingSize = imageEmbeddingSize;
        InputImageSize = inputImageSize;

        pe_layer = new PositionEmbeddingRandom(embedDim / 2);
        point_embeddings = new ModuleList<Embedding>();
        for (int i = 0; i < NumPointEmbeddings; i++) point_embeddings.Add(nn.Embedding(1, embedDim));
        not_a_point_embed = nn.Embedding(1, embedDim);
        mask_downscaling = nn.Sequential(
            nn.Conv2d(1, maskInChans / 4, kernel_size: 2, stride: 2),
            new LayerNorm2d(maskInChans / 4),
            new Gelu(),
            nn.Conv2d(maskInChans / 4, maskInChans, kernel_size: 2, stride: 2),
            new LayerNorm2d(maskInChans),
            new Gelu(),
            nn.Conv2d(maskInChans, embedDim, kernel_size: 1));
        no_mask_embed = nn.Embedding(1, embedDim);
        RegisterComponents();
    }

    /// <summary>The position encoding of the image embedding grid.</summary>
    /// <returns>(1, EmbedDim, H, W).</returns>
    public Tensor GetDensePe()
    {
        using var pe = pe_layer.call(ImageEmbeddingSize);
        return pe.unsqueeze(0);
    }

    /// <summary>Embeds the prompts; each may be null, but all given ones share the batch size B.</summary>
    /// <param name="pointCoords">(B, N, 2) (x, y) in the padded input frame.</param>
    /// <param name="pointLabels">(B, N) integer labels in {−1, 0, 1, 2, 3}.</param>
    /// <param name="boxes">(B, 4) as (x0, y0, x1, y1) in the padded input frame.</param>
    /// <param name="masks">(B, 1, 4h, 4w) low-resolution mask logits.</param>
    /// <returns>Sparse (B, N', EmbedDim) tokens and dense (B, EmbedDim, h, w) embeddings.</returns>
    /// <exception cref="ArgumentException">A shape, a label or the batch sizes are wrong.</exception>
    public override (Tensor Sparse, Tensor Dense) forward(Tensor? pointCoords, Tensor? pointLabels, Tensor? boxes, Tensor? masks)
    {
        long bs = Validate(pointCoords, pointLabels, boxes, masks);
        using var scope = NewDisposeScope();
        var dtype = no_mask_embed.weight!.dtype;
        var parts = new List<Tensor> { empty(bs, 0, EmbedDim, dtype: dtype, device: no_mask_embed.weight.device) };
        if (pointCoords is not null) parts.Add(EmbedPoints(pointCoords, pointLabels!, pad: boxes is null));
        if (boxes is not null) parts.Add(EmbedBoxes(boxes));
        var sparse = cat(parts, 1);
        var dense = masks is not null
            ? mask_downscaling.call(masks.to(dtype))
            : no_mask_embed.weight.reshape(1, -1, 1, 1).expand(bs, -1, ImageEmbeddingSize.H, ImageEmbeddingSize.W);
        return (sparse.MoveToOuterDisposeScope(), dense.MoveToOuterDisposeScope());
    }

    Tensor EmbedPoints(Tensor coords, Tensor labels, bool pad)
    {
        // To the pixel centre, in the coordinates' own floating dtype as the reference (SamPredictor passes the model's).
        var points = (coords.is_floating_point() ? coords : coords.to(ScalarType.Float32)) + 0.5;
        labels = labels.to(ScalarType.Int64);
        if (pad)
        {
            // A padding point stands in for the absent box, so the token count matches the box case.
            points = cat([points, zeros(points.shape[0], 1, 2, dtype: points.dtype, device: points.device)], 1);
            labels = cat([labels, full(labels.shape[0], 1, -1L, dtype: ScalarType.Int64, device: labels.device)], 1);
        }
        var embedding = pe_layer.ForwardWithCoords(points, InputImageSize); // (B, N, C)
        var l = labels.unsqueeze(-1); // (B, N, 1)
        embedding = where(l.eq(-1), not_a_point_embed.weight!, embedding);
        for (int k = 0; k < NumPointEmbeddings; k++)
            embedding = where(l.eq(k), embedding + point_embeddings[k].weight!, embedding);
        return embedding;
    }

    Tensor EmbedBoxes(Tensor boxes)
    {
        var corners = ((boxes.is_floating_point() ? boxes : boxes.to(ScalarType.Float32)) + 0.5).reshape(-1, 2, 2); // (B, 2 corners, xy)
        var embedding = pe_layer.ForwardWithCoords(corners, InputImageSize); // (B, 2, C)
        var topLeft = embedding.select(1, 0) + point_embeddings[2].weight!;
        var bottomRight = embedding.select(1, 1) + point_embeddings[3].weight!;
        return stack([topLeft, bottomRight], 1);
    }

    long Validate(Tensor? pointCoords, Tensor? pointLabels, Tensor? boxes, Tensor? masks)
    {
        long? bs = null;
        void Batch(long b, string what)
        {
            if (bs is not null && bs != b)
                throw new ArgumentException($"{what} has batch size {b} but an earlier prompt has {bs}; all prompts must share B", what);
            bs = b;
        }
        if ((pointCoords is null) != (pointLabels is null))
            throw new ArgumentException("pointCoords and pointLabels must be given together", pointCoords is null ? nameof(pointLabels) : nameof(pointCoords));
        if (pointCoords is not null && pointLabels is not null)
        {
            if (pointCoords.dim() != 3 || pointCoords.shape[2] != 2)
                throw new ArgumentException($"pointCoords must be (B, N, 2); got {Shapes.Format(pointCoords)}", nameof(pointCoords));
            if (pointLabels.dim() != 2 || pointLabels.shape[0] != pointCoords.shape[0] || pointLabels.shape[1] != pointCoords.shape[1])
                throw new ArgumentException($"pointLabels must be (B, N) = ({pointCoords.shape[0]}, {pointCoords.shape[1]}); got {Shapes.Format(pointLabels)}", nameof(pointLabels));
            if (pointLabels.is_floating_point())
                throw new ArgumentException($"pointLabels must be an integer tensor; got {pointLabels.dtype}", nameof(pointLabels));
            CheckLabels(pointLabels);
            Batch(pointCoords.shape[0], nameof(pointCoords));
        }
        if (boxes is not null)
        {
            if (boxes.dim() != 2 || boxes.shape[1] != 4)
                throw new ArgumentException($"boxes must be (B, 4); got {Shapes.Format(boxes)}", nameof(boxes));
            Batch(boxes.shape[0], nameof(boxes));
        }
        if (masks is not null)
        {
            var (mh, mw) = MaskInputSize;
            if (masks.dim() != 4 || masks.shape[1] != 1 || masks.shape[2] != mh || masks.shape[3] != mw)
                throw new ArgumentException($"masks must be (B, 1, {mh}, {mw}); got {Shapes.Format(masks)}", nameof(masks));
            Batch(masks.shape[0], nameof(masks));
        }
        return bs ?? 1;
    }

    /// <summary>Throws unless every label is −1, 0, 1, 2 or 3.</summary>
    /// <exception cref="ArgumentException">A label is outside {−1, 0, 1, 2, 3}; the message names it.</exception>
    public static void CheckLabels(Tensor pointLabels)
    {
        using var scope = NewDisposeScope();
        var bad = pointLabels.lt(-1).logical_or(pointLabels.gt(3));
        if (bad.any().item<bool>())
        {
            long first = pointLabels.flatten().masked_select(bad.flatten())[0].item<long>();
            throw new ArgumentException($"pointLabels must be -1 (padding), 0 (background), 1 (foreground), 2 or 3 (box corners); got {first}", nameof(pointLabels));
        }
    }
}
