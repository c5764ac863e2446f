using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Build sizes of a SAM model: the arguments of segment-anything build_sam.py <c>_build_sam</c> and of
/// the fixed parts it builds (window size, decoder and prompt-encoder widths), with its defaults. JSON
/// names are those of the fixtures' <c>sam_config.json</c>; unknown keys survive a round trip. A
/// <c>tiny_vit</c> object (<see cref="TinyViTConfig"/>) selects MobileSAM's TinyViT image encoder, whose
/// sizes it holds; the <c>encoder_*</c> and <c>window_size</c> values then go unused.
/// </summary>
public sealed record SamConfig
{
    /// <summary>Side of the square model input (the longest image side is resized to it).</summary>
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 1024;
    /// <summary>ViT patch side.</summary>
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 16;
    /// <summary>ViT token width.</summary>
    [JsonPropertyName("encoder_embed_dim")] public int EncoderEmbedDim { get; init; } = 768;
    /// <summary>ViT blocks.</summary>
    [JsonPropertyName("encoder_depth")] public int EncoderDepth { get; init; } = 12;
    /// <summary>ViT attention heads.</summary>
    [JsonPropertyName("encoder_num_heads")] public int EncoderNumHeads { get; init; } = 12;
    /// <summary>Indexes of the global-attention blocks (the others use windows).</summary>
    [JsonPropertyName("encoder_global_attn_indexes")] public IReadOnlyList<int> EncoderGlobalAttnIndexes { get; init; } = [2, 5, 8, 11];
    /// <summary>Window side (in tokens) of the windowed blocks.</summary>
    [JsonPropertyName("window_size")] public int WindowSize { get; init; } = 14;
    /// <summary>Width of the image embedding, the prompt tokens and the mask decoder.</summary>
    [JsonPropertyName("prompt_embed_dim")] public int PromptEmbedDim { get; init; } = 256;
    /// <summary>Hidden channels of the mask-input downscaling.</summary>
    [JsonPropertyName("mask_in_chans")] public int MaskInChans { get; init; } = 16;
    /// <summary>Hidden width of the two-way transformer's MLPs.</summary>
    [JsonPropertyName("decoder_mlp_dim")] public int DecoderMlpDim { get; init; } = 2048;
    /// <summary>Attention heads of the two-way transformer.</summary>
    [JsonPropertyName("decoder_num_heads")] public int DecoderNumHeads { get; init; } = 8;
    /// <summary>Hidden width of the IoU prediction head.</summary>
    [JsonPropertyName("iou_head_hidden_dim")] public int IouHeadHiddenDim { get; init; } = 256;

    /// <summary>MobileSAM's TinyViT encoder sizes, or null for segment-anything's ViT.</summary>
    [JsonPropertyName("tiny_vit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TinyViTConfig? TinyViT { get; init; }

    /// <summary>Keys this record does not know, kept for <see cref="ToJson"/>.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>Side of the image embedding grid: <see cref="ImageSize"/> / <see cref="PatchSize"/>.</summary>
    [JsonIgnore] public int ImageEmbeddingSize => ImageSize / PatchSize;

    /// <summary>segment-anything's vit_b (build_sam_vit_b).</summary>
    public static SamConfig VitB { get; } = new();
    /// <summary>segment-anything's vit_l (build_sam_vit_l).</summary>
    public static SamConfig VitL { get; } = new() { EncoderEmbedDim = 1024, EncoderDepth = 24, EncoderNumHeads = 16, EncoderGlobalAttnIndexes = [5, 11, 17, 23] };
    /// <summary>segment-anything's vit_h (build_sam_vit_h, also its "default").</summary>
    public static SamConfig VitH { get; } = new() { EncoderEmbedDim = 1280, EncoderDepth = 32, EncoderNumHeads = 16, EncoderGlobalAttnIndexes = [7, 15, 23, 31] };

    /// <summary>MobileSAM's vit_t (build_sam_vit_t): TinyViT at its official sizes with segment-anything's prompt encoder and mask decoder.</summary>
    public static SamConfig VitT { get; } = new() { TinyViT = new TinyViTConfig() };

    /// <summary>The names <see cref="ForModelType"/> accepts, as in segment-anything's and MobileSAM's sam_model_registry.</summary>
    public static IReadOnlyList<string> ModelTypes { get; } = ["vit_b", "vit_l", "vit_h", "default", "vit_t"];

    /// <summary>The preset of a segment-anything model type.</summary>
    /// <exception cref="ArgumentException">Unknown type; the message lists the known ones.</exception>
    public static SamConfig ForModelType(string modelType) => modelType switch
    {
        "vit_b" => VitB,
        "vit_l" => VitL,
        "vit_h" or "default" => VitH,
        "vit_t" => VitT,
        _ => throw new ArgumentException($"Unknown SAM model type '{modelType}'; expected one of {string.Join(", ", ModelTypes)}", nameof(modelType)),
    };

    /// <summary>The preset name this config equals in size ("vit_b", "vit_l", "vit_h", "vit_t"), or null for a custom size.</summary>
    [JsonIgnore]
    public string? ModelType =>
        SameSize(VitB) ? "vit_b" : SameSize(VitL) ? "vit_l" : SameSize(VitH) ? "vit_h" : SameSize(VitT) ? "vit_t" : null;

    bool SameSize(SamConfig o) =>
        ImageSize == o.ImageSize && PatchSize == o.PatchSize && PromptEmbedDim == o.PromptEmbedDim && MaskInChans == o.MaskInChans &&
        DecoderMlpDim == o.DecoderMlpDim && DecoderNumHeads == o.DecoderNumHeads && IouHeadHiddenDim == o.IouHeadHiddenDim &&
        (TinyViT is null
            ? o.TinyViT is null && EncoderEmbedDim == o.EncoderEmbedDim && EncoderDepth == o.EncoderDepth && EncoderNumHeads == o.EncoderNumHeads &&
              EncoderGlobalAttnIndexes.SequenceEqual(o.EncoderGlobalAttnIndexes) && WindowSize == o.WindowSize
            : o.TinyViT is not null && TinyViT.SameSize(o.TinyViT));

    /// <summary>The image encoder's size as error messages name it ("embed_dim 768, 12 blocks" or the TinyViT stages).</summary>
    public string DescribeEncoder() => TinyViT?.Describe() ?? DescribeVit(EncoderEmbedDim, EncoderDepth);

    internal static string DescribeVit(long embedDim, int depth) => $"embed_dim {embedDim}, {depth} blocks";

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, RespectNullableAnnotations = true };

    /// <summary>Parses a config; absent keys take the vit_b defaults.</summary>
    /// <exception cref="InvalidDataException">The JSON is malformed or a size is not positive.</exception>
    public static SamConfig FromJson(string json)
    {
        SamConfig? config;
        try { config = JsonSerializer.Deserialize<SamConfig>(json, Options); }
        catch (JsonException e) { throw new InvalidDataException($"Not a valid SAM config: {e.Message}", e); }
        if (config is null) throw new InvalidDataException("Not a valid SAM config: null");
        config.Validate();
        return config;
    }

    /// <summary>Reads a config file such as the fixtures' <c>sam_config.json</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The config is malformed (the message names the file).</exception>
    public static SamConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"SAM config not found: {path}", path);
        try { return FromJson(File.ReadAllText(path)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>Serialises the config, unknown keys included.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Throws unless the sizes can build a model.</summary>
    /// <exception cref="InvalidDataException">A size is not positive or not divisible as required.</exception>
    public void Validate()
    {
        void Positive(int v, string name) { if (v <= 0) throw new InvalidDataException($"SAM config {name} must be positive; got {v}"); }
        Positive(ImageSize, "image_size"); Positive(PatchSize, "patch_size"); Positive(EncoderEmbedDim, "encoder_embed_dim");
        Positive(EncoderDepth, "encoder_depth"); Positive(EncoderNumHeads, "encoder_num_heads"); Positive(PromptEmbedDim, "prompt_embed_dim");
        Positive(MaskInChans, "mask_in_chans"); Positive(DecoderMlpDim, "decoder_mlp_dim"); Positive(DecoderNumHeads, "decoder_num_heads");
        Positive(IouHeadHiddenDim, "iou_head_hidden_dim");
        if (WindowSize < 0) throw new InvalidDataException($"SAM config window_size must be >= 0; got {WindowSize}");
        if (ImageSize % PatchSize != 0) throw new InvalidDataException($"SAM config patch_size ({PatchSize}) must divide image_size ({ImageSize})");
        if (EncoderEmbedDim % EncoderNumHeads != 0) throw new InvalidDataException($"SAM config encoder_num_heads ({EncoderNumHeads}) must divide encoder_embed_dim ({EncoderEmbedDim})");
        if (PromptEmbedDim % 8 != 0) throw new InvalidDataException($"SAM config prompt_embed_dim must be a multiple of 8; got {PromptEmbedDim}");
        if (MaskInChans % 4 != 0) throw new InvalidDataException($"SAM config mask_in_chans must be a multiple of 4; got {MaskInChans}");
        if ((PromptEmbedDim / 2) % DecoderNumHeads != 0) throw new InvalidDataException($"SAM config decoder_num_heads ({DecoderNumHeads}) must divide prompt_embed_dim / 2 ({PromptEmbedDim / 2})");
        if (TinyViT is { } tiny)
        {
            tiny.Validate();
            // TinyViT's last stage works on (S/4) / 2^(i == 3 ? 2 : i); the prompt encoder expects S / patch_size.
            int last = tiny.EmbedDims.Count - 1, shift = last == 3 ? 2 : last;
            if (ImageSize % 4 != 0 || (ImageSize / 4) >> shift != ImageEmbeddingSize)
                throw new InvalidDataException($"SAM config image_size ({ImageSize}) gives TinyViT a {(ImageSize / 4) >> shift}-wide embedding, but image_size / patch_size is {ImageEmbeddingSize}; set patch_size to the TinyViT's total downsampling");
            return;
        }
        var outOfRange = EncoderGlobalAttnIndexes.Where(i => i < 0 || i >= EncoderDepth).ToList();
        if (outOfRange.Count > 0) throw new InvalidDataException($"SAM config encoder_global_attn_indexes must be in [0, {EncoderDepth}); got {string.Join(", ", outOfRange)}");
    }
}
