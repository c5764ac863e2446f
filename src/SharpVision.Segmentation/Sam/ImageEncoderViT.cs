using SharpVision.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// SAM's image encoder: a ViTDet-style ViT (patch embedding, absolute position embedding, windowed
/// blocks with a few global-attention blocks, all with decomposed relative positions) followed by a neck
/// of 1×1 and 3×3 convolutions with <see cref="LayerNorm2d"/>. Follows segment-anything
/// modeling/image_encoder.py <c>ImageEncoderViT</c> (dca509f); the fields are its attribute names.
/// </summary>
public sealed class ImageEncoderViT : SamImageEncoder
{
    public readonly PatchEmbed patch_embed;
    public readonly Parameter? pos_embed;
    public readonly ModuleList<ViTBlock> blocks;
    public readonly Sequential neck;

    /// <summary>Side of the square input image.</summary>
    public override long ImgSize { get; }
    /// <summary>Token width of the ViT.</summary>
    public long EmbedDim { get; }

    /// <param name="imgSize">Side of the (padded, square) input.</param>
    /// <param name="patchSize">Patch side.</param>
    /// <param name="inChans">Image channels.</param>
    /// <param name="embedDim">Token width.</param>
    /// <param name="depth">Number of blocks.</param>
    /// <param name="numHeads">Attention heads per block.</param>
    /// <param name="mlpRatio">MLP width as a multiple of <paramref name="embedDim"/>.</param>
    /// <param name="outChans">Channels of the output embedding.</param>
    /// <param name="qkvBias">Whether qkv projections have biases.</param>
    /// <param name="normEps">LayerNorm epsilon of the blocks.</param>
    /// <param name="useAbsPos">Whether to add the learned absolute position embedding.</param>
    /// <param name="useRelPos">Whether attention adds relative position embeddings.</param>
    /// <param name="windowSize">Window side of the windowed blocks.</param>
    /// <param name="globalAttnIndexes">Indexes of the blocks that attend globally.</param>
    public ImageEncoderViT(long imgSize = 1024, long patchSize = 16, long inChans = 3, long embedDim = 768, long depth = 12,
        long numHeads = 12, double mlpRatio = 4.0, long outChans = 256, bool qkvBias = true, double normEps = 1e-5,
        bool useAbsPos = true, bool useRelPos = false, long windowSize = 0, IReadOnlyCollection<int>? globalAttnIndexes = null)
        : base(nameof(ImageEncoderViT))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imgSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patchSize);
        if (imgSize % patchSize != 0)
            throw new ArgumentException($"patch_size ({patchSize}) must divide img_size ({imgSize})", nameof(patchSize));
        ImgSize = imgSize;
        EmbedDim = embedDim;
        globalAttnIndexes ??= [];
        long grid = imgSize / patchSize;

        patch_embed = new PatchEmbed(patchSize, inChans, embedDim);
        if (useAbsPos) pos_embed = new Parameter(zeros(1, grid, grid, embedDim));
        blocks = new ModuleList<ViTBlock>();
        for (int i = 0; i < depth; i++)
        {
            blocks.Add(new ViTBlock(embedDim, numHeads, mlpRatio, qkvBias, normEps, useRelPos,
                globalAttnIndexes.Contains(i) ? 0 : windowSize, (grid, grid)));
        }
        neck = nn.Sequential(
            nn.Conv2d(embedDim, outChans, kernel_size: 1, bias: false),
            new LayerNorm2d(outChans),
            nn.Conv2d(outChans, outChans, kernel_size: 3, padding: 1, bias: false),
            new LayerNorm2d(outChans));
        RegisterComponents();
    }

    /// <summary>Switches every block's attention to <c>scaled_dot_product_attention</c> (true) or the reference's explicit softmax.</summary>
    public override void UseScaledDotProductAttention(bool enabled)
    {
        foreach (var block in blocks) block.attn.UseScaledDotProductAttention = enabled;
    }

    /// <summary>
    /// Attends the global blocks' queries <paramref name="queries"/> at a time (0: all at once, as the reference), bounding
    /// their logits to (heads, queries, tokens) instead of (heads, tokens, tokens); see
    /// <see cref="RelativePositionAttention.QueryChunkSize"/>. Windowed blocks are small and stay whole.
    /// </summary>
    public void ChunkGlobalAttention(int queries)
    {
        foreach (var block in blocks.Where(b => b.WindowSize == 0)) block.attn.QueryChunkSize = queries;
    }

    /// <param name="x">(B, inChans, ImgSize, ImgSize) normalised, padded image.</param>
    /// <returns>(B, outChans, ImgSize / patch, ImgSize / patch) image embedding.</returns>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[2] != ImgSize || x.shape[3] != ImgSize)
            throw new ArgumentException($"x must be (B, C, {ImgSize}, {ImgSize}); got {Shapes.Format(x)}", nameof(x));
        using var scope = NewDisposeScope();
        var h = patch_embed.call(x); // (B, h, w, C)
        if (pos_embed is not null) h = h + pos_embed;
        foreach (var block in blocks) h = block.call(h);
        var y = neck.call(h.permute(0, 3, 1, 2)); // (B, h, w, C) -> (B, C, h, w), channels-last
        return y.contiguous().MoveToOuterDisposeScope();
    }
}
