using SharpVision.Nn;
using SharpVision.Nn.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// MobileSAM's image encoder (Zhang et al. 2023, https://arxiv.org/abs/2306.14289): TinyViT (Wu et al.
/// 2022) distilled from SAM's ViT-H. A convolutional stem to ¼ resolution, a stage of <see cref="MBConv"/>
/// blocks, transformer stages of windowed <see cref="TinyViTBlock"/>s joined by <see cref="PatchMerging"/>,
/// then segment-anything's neck (1×1 and 3×3 convolutions with <see cref="LayerNorm2d"/>) to the image
/// embedding. Follows MobileSAM mobile_sam/modeling/tiny_vit_sam.py <c>TinyViT</c> (34bbbfd); the fields
/// are its attribute names, so the state_dict keys are those of <c>mobile_sam.pt</c>.
/// </summary>
/// <remarks>
/// Stage i works on a grid of (S/4) / 2^(i == 3 ? 2 : i) per side, as the reference sets it, so the last
/// two stages of the four-stage model share the S/16 grid (64×64 at 1024). <c>norm_head</c> and
/// <c>head</c>, the ImageNet classifier, are unused by SAM but are in the checkpoint. The reference
/// reshapes its output to a fixed 64×64; here the last stage's grid is used, which is that for every model
/// the reference can run.
/// </remarks>
public sealed class TinyViT : SamImageEncoder
{
    public readonly TinyViTPatchEmbed patch_embed;
    public readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    public readonly LayerNorm norm_head;
    public readonly Linear head;
    public readonly Sequential neck;

    readonly long imgSize;

    /// <inheritdoc/>
    public override long ImgSize => imgSize;

    /// <summary>(H, W) of each stage's token grid.</summary>
    public IReadOnlyList<(long H, long W)> StageResolutions { get; }

    /// <summary>(H, W) of the output embedding: the last stage's grid.</summary>
    public (long H, long W) EmbeddingSize => StageResolutions[^1];

    /// <param name="imgSize">Side of the (padded, square) input; a multiple of 4 whose grids halve exactly.</param>
    /// <param name="config">The stage sizes.</param>
    /// <param name="inChans">Image channels.</param>
    /// <param name="outChans">Channels of the image embedding (the neck's width; 256 in the reference).</param>
    /// <exception cref="ArgumentException">An image side the stages cannot halve exactly.</exception>
    /// <exception cref="InvalidDataException">Sizes <see cref="TinyViTConfig.Validate"/> rejects.</exception>
    public TinyViT(long imgSize, TinyViTConfig config, long inChans = 3, long outChans = 256) : base(nameof(TinyViT))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imgSize);
        config.Validate();
        if (imgSize % 4 != 0) throw new ArgumentException($"img_size must be a multiple of 4 (the stem halves it twice); got {imgSize}", nameof(imgSize));
        this.imgSize = imgSize;
        var dims = config.EmbedDims;
        int numLayers = dims.Count;

        patch_embed = new TinyViTPatchEmbed(inChans, dims[0], imgSize);
        var (ph, pw) = patch_embed.PatchesResolution;
        var resolutions = Enumerable.Range(0, numLayers)
            .Select(i => { int shift = i == 3 ? 2 : i; return (H: ph >> shift, W: pw >> shift); }).ToList();
        StageResolutions = resolutions;

        layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < numLayers; i++)
        {
            var downsample = i < numLayers - 1 ? Merging(resolutions[i], resolutions[i + 1], dims[i], dims[i + 1]) : null;
            layers.Add(i == 0
                ? new ConvLayer(dims[0], config.Depths[0], downsample, config.MbconvExpandRatio)
                : new BasicLayer(dims[i], resolutions[i], config.Depths[i], config.NumHeads[i], config.WindowSizes[i], config.MlpRatio,
                    config.LocalConvSize, downsample));
        }
        norm_head = nn.LayerNorm(dims[^1]);
        head = nn.Linear(dims[^1], config.NumClasses);
        InitWeights();
        // Created after the reference's weight initialisation, so it keeps PyTorch's default one.
        neck = nn.Sequential(
            nn.Conv2d(dims[^1], outChans, kernel_size: 1, bias: false),
            new LayerNorm2d(outChans),
            nn.Conv2d(outChans, outChans, kernel_size: 3, padding: 1, bias: false),
            new LayerNorm2d(outChans));
        RegisterComponents();
    }

    /// <summary>The merging into the next stage: stride 2 when its grid is half this one, 1 when equal.</summary>
    static PatchMerging Merging((long H, long W) from, (long H, long W) to, long dim, long outDim)
    {
        long stride = to == from ? 1 : 2;
        // A 3×3 convolution with padding 1 and stride 2 gives ceil(n / 2).
        if ((stride == 2 && to != ((from.H + 1) / 2, (from.W + 1) / 2)) || to.H == 0 || to.W == 0)
            throw new ArgumentException($"img_size gives stage grids {from.H}x{from.W} then {to.H}x{to.W}, which a stride-2 merge cannot produce; use a multiple of 4 · 2^(stages − 2)", "imgSize");
        return new PatchMerging(from, dim, outDim, stride);
    }

    /// <summary>The reference's <c>_init_weights</c>: Linear weights truncated-normal (std 0.02), biases 0; LayerNorm 1 and 0.</summary>
    void InitWeights()
    {
        using var noGrad = no_grad();
        foreach (var module in new nn.Module[] { patch_embed, layers, norm_head, head }.SelectMany(m => m.named_modules().Select(nm => nm.module).Prepend(m)))
        {
            var (weight, bias) = module switch
            {
                Linear l => (l.weight, l.bias),
                OneDnnLinear l => (l.weight, l.bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            nn.init.trunc_normal_(weight, std: 0.02);
            bias?.zero_();
        }
    }

    /// <inheritdoc/>
    public override void UseScaledDotProductAttention(bool enabled)
    {
        foreach (var block in layers.OfType<BasicLayer>().SelectMany(l => l.blocks)) block.attn.UseScaledDotProductAttention = enabled;
    }

    /// <param name="x">(B, inChans, ImgSize, ImgSize) normalised, padded image.</param>
    /// <returns>(B, outChans, h, w) image embedding, (h, w) = <see cref="EmbeddingSize"/>.</returns>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[2] != ImgSize || x.shape[3] != ImgSize)
            throw new ArgumentException($"x must be (B, C, {ImgSize}, {ImgSize}); got {Shapes.Format(x)}", nameof(x));
        using var scope = NewDisposeScope();
        // Channels-last from the start: the convolutions run faster that way (a depthwise 3×3 about 2–3× on this
        // build), and tokens and channels-last maps are views of each other.
        var h = patch_embed.call(x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)); // (B, C0, S/4, S/4)
        foreach (var layer in layers) h = layer.call(h); // tokens (B, L, C) after the first merge
        var (gh, gw) = EmbeddingSize;
        if (h.dim() == 3) h = h.view(h.shape[0], gh, gw, h.shape[2]).permute(0, 3, 1, 2); // (B, L, C) -> (B, C, h, w)
        return neck.call(h).contiguous().MoveToOuterDisposeScope();
    }
}
