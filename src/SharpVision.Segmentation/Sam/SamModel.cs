using System.Text.RegularExpressions;
using SharpVision.Nn;
using SharpVision.Nn.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Segment Anything (Kirillov et al. 2023, https://arxiv.org/abs/2304.02643): an image encoder run once
/// per image, a prompt encoder and a light mask decoder run per prompt. Holds the three parts under the
/// reference's attribute names, so <c>state_dict()</c> keys equal those of the official checkpoints, and
/// the pre- and post-processing of segment-anything modeling/sam.py <c>Sam</c> (dca509f). The image
/// encoder is segment-anything's <see cref="ImageEncoderViT"/> (vit_b/l/h) or MobileSAM's
/// <see cref="TinyViT"/> (vit_t). For prompting an image use <see cref="SamPredictor"/>.
/// </summary>
/// <remarks>
/// <c>pixel_mean</c>/<c>pixel_std</c> are not part of the state_dict (the reference registers them as
/// non-persistent buffers); they are float32 values cast to the model's dtype when used, as the
/// reference's buffers are.
/// </remarks>
public sealed partial class SamModel : nn.Module
{
    public readonly SamImageEncoder image_encoder;
    public readonly PromptEncoder prompt_encoder;
    public readonly MaskDecoder mask_decoder;

    /// <summary>Mask logits above this are foreground.</summary>
    public const double MaskThreshold = 0.0;

    /// <summary>Channel order the model expects ("RGB").</summary>
    public const string ImageFormat = "RGB";

    /// <summary>Per-channel mean of the input normalisation (RGB, 0–255 scale).</summary>
    public IReadOnlyList<float> PixelMean { get; }
    /// <summary>Per-channel standard deviation of the input normalisation (RGB, 0–255 scale).</summary>
    public IReadOnlyList<float> PixelStd { get; }

    /// <summary>The sizes the model was built with.</summary>
    public SamConfig Config { get; }

    /// <summary>Assembles a model from its parts (normally use <see cref="Build"/>).</summary>
    public SamModel(SamImageEncoder imageEncoder, PromptEncoder promptEncoder, MaskDecoder maskDecoder, SamConfig config,
        IReadOnlyList<float>? pixelMean = null, IReadOnlyList<float>? pixelStd = null)
        : base(nameof(SamModel))
    {
        ArgumentNullException.ThrowIfNull(imageEncoder);
        ArgumentNullException.ThrowIfNull(promptEncoder);
        ArgumentNullException.ThrowIfNull(maskDecoder);
        ArgumentNullException.ThrowIfNull(config);
        image_encoder = imageEncoder;
        prompt_encoder = promptEncoder;
        mask_decoder = maskDecoder;
        Config = config;
        PixelMean = pixelMean ?? [123.675f, 116.28f, 103.53f];
        PixelStd = pixelStd ?? [58.395f, 57.12f, 57.375f];
        if (PixelMean.Count != 3 || PixelStd.Count != 3) throw new ArgumentException("pixel_mean and pixel_std need 3 values each");
        RegisterComponents();
    }

    /// <summary>
    /// Builds a model of the given sizes with fresh (random) weights, in eval mode, as
    /// segment-anything build_sam.py <c>_build_sam</c> does (MobileSAM's <c>build_sam_vit_t</c> when the config
    /// has <see cref="SamConfig.TinyViT"/> sizes).
    /// </summary>
    public static SamModel Build(SamConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        long grid = config.ImageEmbeddingSize;
        SamImageEncoder encoder = config.TinyViT is { } tiny
            ? new TinyViT(config.ImageSize, tiny, outChans: config.PromptEmbedDim)
            : new ImageEncoderViT(
                imgSize: config.ImageSize, patchSize: config.PatchSize, embedDim: config.EncoderEmbedDim, depth: config.EncoderDepth,
                numHeads: config.EncoderNumHeads, mlpRatio: 4, outChans: config.PromptEmbedDim, qkvBias: true, normEps: 1e-6,
                useRelPos: true, windowSize: config.WindowSize, globalAttnIndexes: config.EncoderGlobalAttnIndexes.ToArray());
        var prompt = new PromptEncoder(config.PromptEmbedDim, (grid, grid), (config.ImageSize, config.ImageSize), config.MaskInChans);
        var decoder = new MaskDecoder(config.PromptEmbedDim,
            new TwoWayTransformer(depth: 2, embeddingDim: config.PromptEmbedDim, numHeads: config.DecoderNumHeads, mlpDim: config.DecoderMlpDim),
            numMultimaskOutputs: 3, iouHeadDepth: 3, iouHeadHiddenDim: config.IouHeadHiddenDim);
        var sam = new SamModel(encoder, prompt, decoder, config);
        sam.eval();
        return sam;
    }

    /// <summary>Builds a preset ("vit_b", "vit_l", "vit_h", "default", "vit_t") and loads an official checkpoint into it.</summary>
    /// <exception cref="ArgumentException">Unknown model type.</exception>
    /// <exception cref="CheckpointMismatchException">The checkpoint is of another size; the message says which size it looks like.</exception>
    public static SamModel FromCheckpoint(string path, string modelType) => FromCheckpoint(path, SamConfig.ForModelType(modelType));

    /// <summary>Builds a model of <paramref name="config"/>'s sizes and loads a torch.save'd state_dict into it (strict).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a readable checkpoint.</exception>
    /// <exception cref="CheckpointMismatchException">The checkpoint is of another size; the message says which size it looks like.</exception>
    public static SamModel FromCheckpoint(string path, SamConfig config)
    {
        var sam = Build(config);
        try { sam.LoadCheckpoint(path); }
        catch { sam.Dispose(); throw; }
        return sam;
    }

    /// <summary>Loads a state_dict file (torch.save zip or safetensors) into this model, strictly.</summary>
    /// <exception cref="CheckpointMismatchException">Keys or shapes differ; when the checkpoint looks like another size, the message begins by saying so.</exception>
    public void LoadCheckpoint(string path)
    {
        var dict = StateDict.Load(path);
        try { LoadStateDict(dict, path); }
        finally { foreach (var t in dict.Values) t.Dispose(); }
    }

    /// <summary>Copies a state_dict with the reference's key names into this model, strictly.</summary>
    /// <param name="source">Names the checkpoint in error messages.</param>
    /// <exception cref="CheckpointMismatchException">Keys or shapes differ; when the checkpoint looks like another size, the message begins by saying so.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, string source = "state_dict")
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var guess = DescribeSize(stateDict);
        var mine = Config.DescribeEncoder();
        string label = guess is not null && guess.Value.Description != mine
            ? $"{source} (it holds a {guess.Value.Name} model: {guess.Value.Description}; this model is {Config.ModelType ?? "a custom size"}: {mine})"
            : source;
        StateDict.LoadInto(this, stateDict, strict: true, source: label);
    }

    /// <summary>
    /// Guesses a checkpoint's encoder size: a ViT's from <c>image_encoder.patch_embed.proj.weight</c> and its
    /// block count, a TinyViT's from each stage's width and block count.
    /// </summary>
    static (string Name, string Description)? DescribeSize(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        if (stateDict.TryGetValue("image_encoder.patch_embed.proj.weight", out var patch) && patch.dim() == 4)
        {
            long dim = patch.shape[0];
            int depth = MaxIndex(stateDict.Keys, VitBlockIndex(), 1) + 1;
            var preset = new[] { SamConfig.VitB, SamConfig.VitL, SamConfig.VitH }
                .FirstOrDefault(c => c.EncoderEmbedDim == dim && c.EncoderDepth == depth);
            return (preset?.ModelType ?? "custom-size", SamConfig.DescribeVit(dim, depth));
        }
        int stages = MaxIndex(stateDict.Keys, TinyVitStageIndex(), 1) + 1;
        if (stages == 0) return null;
        var dims = new int[stages];
        var depths = new int[stages];
        for (int i = 0; i < stages; i++)
        {
            depths[i] = stateDict.Keys.Where(k => k.StartsWith($"image_encoder.layers.{i}.blocks.", StringComparison.Ordinal))
                .Select(k => int.Parse(k.Split('.')[4], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max() + 1;
            // The first stage's MBConv input, the others' attention input.
            var key = i == 0 ? "image_encoder.layers.0.blocks.0.conv1.c.weight" : $"image_encoder.layers.{i}.blocks.0.attn.qkv.weight";
            dims[i] = stateDict.TryGetValue(key, out var w) && w.dim() >= 2 ? (int)w.shape[1] : 0;
        }
        var tiny = new TinyViTConfig { EmbedDims = dims, Depths = depths };
        bool official = tiny.EmbedDims.SequenceEqual(SamConfig.VitT.TinyViT!.EmbedDims) && tiny.Depths.SequenceEqual(SamConfig.VitT.TinyViT.Depths);
        return (official ? "vit_t" : "custom-size TinyViT", tiny.Describe());
    }

    static int MaxIndex(IEnumerable<string> keys, Regex pattern, int group) =>
        keys.Select(k => pattern.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max();

    [GeneratedRegex(@"^image_encoder\.blocks\.(\d+)\.")]
    private static partial Regex VitBlockIndex();

    [GeneratedRegex(@"^image_encoder\.layers\.(\d+)\.")]
    private static partial Regex TinyVitStageIndex();

    /// <summary>The dtype of the model's parameters.</summary>
    public ScalarType Dtype => mask_decoder.iou_token.weight!.dtype;

    /// <summary>The device of the model's parameters.</summary>
    public Device Device => mask_decoder.iou_token.weight!.device;

    /// <summary>Switches every attention layer between the reference's explicit softmax(q kᵀ) v and
    /// <c>scaled_dot_product_attention</c>.</summary>
    public void UseScaledDotProductAttention(bool enabled)
    {
        image_encoder.UseScaledDotProductAttention(enabled);
        mask_decoder.transformer.UseScaledDotProductAttention(enabled);
    }

    /// <summary>Normalises pixel values and zero-pads to the square model input.</summary>
    /// <param name="x">(B, 3, h, w) RGB image on the 0–255 scale (uint8 or floating), h, w ≤ image size.</param>
    /// <returns>(B, 3, S, S) in the model's dtype, S = <c>image_encoder.ImgSize</c>.</returns>
    /// <exception cref="ArgumentException">Wrong rank, channel count, or larger than the model input.</exception>
    public Tensor Preprocess(Tensor x)
    {
        long s = image_encoder.ImgSize;
        if (x.dim() != 4 || x.shape[1] != 3 || x.shape[2] > s || x.shape[3] > s || x.shape[2] == 0 || x.shape[3] == 0)
            throw new ArgumentException($"x must be (B, 3, h, w) with 0 < h, w <= {s}; got {Shapes.Format(x)}", nameof(x));
        using var scope = NewDisposeScope();
        var mean = tensor(PixelMean.ToArray(), device: x.device).to(Dtype).view(-1, 1, 1);
        var std = tensor(PixelStd.ToArray(), device: x.device).to(Dtype).view(-1, 1, 1);
        var normed = (x.to(Dtype) - mean) / std;
        var padded = nn.functional.pad(normed, [0, s - x.shape[3], 0, s - x.shape[2]]);
        return padded.MoveToOuterDisposeScope();
    }

    /// <summary>Removes the padding and upscales mask logits to the original image size (bilinear, as the reference).</summary>
    /// <param name="masks">(B, C, h, w) low-resolution logits from the mask decoder.</param>
    /// <param name="inputSize">(H, W) of the resized image before padding.</param>
    /// <param name="originalSize">(H, W) of the original image.</param>
    /// <returns>(B, C, originalSize.H, originalSize.W) logits.</returns>
    public Tensor PostprocessMasks(Tensor masks, (long H, long W) inputSize, (long H, long W) originalSize)
    {
        Shapes.RequireRank(masks, 4, "(B, C, h, w)", nameof(masks));
        long s = image_encoder.ImgSize;
        using var scope = NewDisposeScope();
        var up = nn.functional.interpolate(masks, size: [s, s], mode: InterpolationMode.Bilinear, align_corners: false);
        up = up.slice(2, 0, inputSize.H, 1).slice(3, 0, inputSize.W, 1);
        var result = nn.functional.interpolate(up, size: [originalSize.H, originalSize.W], mode: InterpolationMode.Bilinear, align_corners: false);
        return result.MoveToOuterDisposeScope();
    }
}
