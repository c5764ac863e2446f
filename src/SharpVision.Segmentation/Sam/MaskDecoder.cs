using SharpVision.Nn.Activations;
using SharpVision.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// SAM's mask decoder: an IoU token and <c>num_multimask_outputs + 1</c> mask tokens are prepended to the
/// prompt tokens and run through the <see cref="TwoWayTransformer"/> with the image embedding (plus the
/// dense prompt embedding); the image tokens are upscaled 4× by transposed convolutions, each mask token
/// goes through its own hypernetwork MLP to give the weights of a per-pixel dot product, and the IoU
/// token through an MLP head predicts each mask's quality. Follows segment-anything
/// modeling/mask_decoder.py <c>MaskDecoder</c> (dca509f).
/// </summary>
public sealed class MaskDecoder : nn.Module<Tensor, Tensor, Tensor, Tensor, bool, (Tensor Masks, Tensor IouPred)>
{
    public readonly TwoWayTransformer transformer;
    public readonly Embedding iou_token;
    public readonly Embedding mask_tokens;
    public readonly Sequential output_upscaling;
    public readonly ModuleList<MLP> output_hypernetworks_mlps;
    public readonly MLP iou_prediction_head;

    /// <summary>Channel width of the transformer.</summary>
    public long TransformerDim { get; }
    /// <summary>Masks predicted in multimask mode (the single-mask output is one more).</summary>
    public long NumMultimaskOutputs { get; }
    /// <summary>Mask tokens: <see cref="NumMultimaskOutputs"/> + 1.</summary>
    public long NumMaskTokens => NumMultimaskOutputs + 1;

    /// <param name="transformerDim">Channel width of the transformer.</param>
    /// <param name="transformer">The two-way transformer.</param>
    /// <param name="numMultimaskOutputs">Masks predicted in multimask mode.</param>
    /// <param name="iouHeadDepth">Linear layers of the IoU head.</param>
    /// <param name="iouHeadHiddenDim">Hidden width of the IoU head.</param>
    public MaskDecoder(long transformerDim, TwoWayTransformer transformer, long numMultimaskOutputs = 3, int iouHeadDepth = 3, long iouHeadHiddenDim = 256)
        : base(nameof(MaskDecoder))
    {
        ArgumentNullException.ThrowIfNull(transformer);
        if (transformerDim % 8 != 0 || transformerDim <= 0)
            throw new ArgumentException($"transformer_dim must be a positive multiple of 8; got {transformerDim}", nameof(transformerDim));
        if (transformer.EmbeddingDim != transformerDim)
            throw new ArgumentException($"transformer width {transformer.EmbeddingDim} differs from transformer_dim {transformerDim}", nameof(transformer));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numMultimaskOutputs);
        TransformerDim = transformerDim;
        NumMultimaskOutputs = numMultimaskOutputs;

        this.transformer = transformer;
        iou_token = nn.Embedding(1, transformerDim);
        mask_tokens = nn.Embedding(NumMaskTokens, transformerDim);
        output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(transformerDim, transformerDim / 4, kernel_size: 2, stride: 2),
            new LayerNorm2d(transformerDim / 4),
            new Gelu(),
            nn.ConvTranspose2d(transformerDim / 4, transformerDim / 8, kernel_size: 2, stride: 2),
            new Gelu());
        output_hypernetworks_mlps = new ModuleList<MLP>();
        for (long i = 0; i < NumMaskTokens; i++)
            output_hypernetworks_mlps.Add(new MLP(transformerDim, transformerDim, transformerDim / 8, 3));
        iou_prediction_head = new MLP(transformerDim, iouHeadHiddenDim, NumMaskTokens, iouHeadDepth);
        RegisterComponents();
    }

    /// <summary>Predicts masks and their quality for a batch of prompts on one image.</summary>
    /// <param name="imageEmbeddings">(1, C, h, w) image embedding, repeated once per prompt.</param>
    /// <param name="imagePe">(1, C, h, w) position encoding of the embedding grid.</param>
    /// <param name="sparsePromptEmbeddings">(B, N, C) point and box tokens.</param>
    /// <param name="densePromptEmbeddings">(B, C, h, w) mask embeddings.</param>
    /// <param name="multimaskOutput">Three masks (tokens 1..3) or one (token 0).</param>
    /// <returns>Low-resolution mask logits (B, M, 4h, 4w) and IoU predictions (B, M), M = 3 or 1.</returns>
    public override (Tensor Masks, Tensor IouPred) forward(Tensor imageEmbeddings, Tensor imagePe, Tensor sparsePromptEmbeddings,
        Tensor densePromptEmbeddings, bool multimaskOutput)
    {
        Shapes.RequireRank(imageEmbeddings, 4, "(1, C, h, w)", nameof(imageEmbeddings));
        Shapes.RequireDim(imageEmbeddings, 1, TransformerDim, $"(1, {TransformerDim}, h, w)", nameof(imageEmbeddings));
        Shapes.RequireRank(sparsePromptEmbeddings, 3, $"(B, N, {TransformerDim})", nameof(sparsePromptEmbeddings));
        Shapes.RequireDim(sparsePromptEmbeddings, 2, TransformerDim, $"(B, N, {TransformerDim})", nameof(sparsePromptEmbeddings));
        using var scope = NewDisposeScope();
        var (masks, iouPred) = PredictMasks(imageEmbeddings, imagePe, sparsePromptEmbeddings, densePromptEmbeddings);
        long start = multimaskOutput ? 1 : 0, end = multimaskOutput ? NumMaskTokens : 1;
        masks = masks.slice(1, start, end, 1);
        iouPred = iouPred.slice(1, start, end, 1);
        return (masks.MoveToOuterDisposeScope(), iouPred.MoveToOuterDisposeScope());
    }

    /// <summary>All <see cref="NumMaskTokens"/> masks: (B, T, 4h, 4w) logits and (B, T) IoU predictions.</summary>
    public (Tensor Masks, Tensor IouPred) PredictMasks(Tensor imageEmbeddings, Tensor imagePe, Tensor sparsePromptEmbeddings, Tensor densePromptEmbeddings)
    {
        using var scope = NewDisposeScope();
        long batch = sparsePromptEmbeddings.shape[0];
        var outputTokens = cat([iou_token.weight!, mask_tokens.weight!], 0); // (1 + T, C)
        outputTokens = outputTokens.unsqueeze(0).expand(batch, -1, -1);
        var tokens = cat([outputTokens, sparsePromptEmbeddings], 1); // (B, 1 + T + N, C)

        // One copy of the image data per prompt.
        var src = imageEmbeddings.repeat_interleave(tokens.shape[0], 0) + densePromptEmbeddings;
        var posSrc = imagePe.repeat_interleave(tokens.shape[0], 0);
        long b = src.shape[0], c = src.shape[1], h = src.shape[2], w = src.shape[3];

        var (hs, keys) = transformer.call(src, posSrc, tokens);
        var iouTokenOut = hs.select(1, 0);
        var maskTokensOut = hs.slice(1, 1, 1 + NumMaskTokens, 1);

        var upscaled = output_upscaling.call(keys.transpose(1, 2).view(b, c, h, w)); // (B, hw, C) -> (B, C, h, w)
        var hyperIn = stack(Enumerable.Range(0, (int)NumMaskTokens)
            .Select(i => output_hypernetworks_mlps[i].call(maskTokensOut.select(1, i))).ToArray(), 1); // (B, T, C/8)
        long ub = upscaled.shape[0], uc = upscaled.shape[1], uh = upscaled.shape[2], uw = upscaled.shape[3];
        var masks = hyperIn.matmul(upscaled.reshape(ub, uc, uh * uw)).view(ub, -1, uh, uw); // (B, T, 4h, 4w)

        var iouPred = iou_prediction_head.call(iouTokenOut);
        return (masks.MoveToOuterDisposeScope(), iouPred.MoveToOuterDisposeScope());
    }
}
