using SharpVision.Diffusion.Quantization;
using SharpVision.Nn;
using SharpVision.Nn.Checkpoints;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// diffusers' VQ-VAE (models/autoencoders/vq_model.py <c>VQModel</c>, the VQGAN autoencoder of taming-transformers
/// without its discriminator): <see cref="Encoder"/> → 1×1 <c>quant_conv</c> → <see cref="VectorQuantizer"/> →
/// 1×1 <c>post_quant_conv</c> → <see cref="Decoder"/>. Parameter names equal diffusers' state_dict keys, so
/// <see cref="FromPretrained"/> reads a diffusers <c>save_pretrained</c> folder and <see cref="SavePretrained"/>
/// writes one diffusers can load.
/// </summary>
/// <remarks>
/// The quantizer defaults to diffusers' (gradient updates, β = 0.25, legacy weighting). A quantizer with EMA updates or
/// k-means initialisation adds its state buffers (<c>quantize.ema_*</c>, <c>quantize.initted</c>) to the state_dict;
/// diffusers ignores such extra keys, and <see cref="FromPretrained"/> needs the same options to load them.
/// </remarks>
public sealed class VQModel : nn.Module<Tensor, DecoderOutput>
{
    /// <summary>File names of a diffusers model folder.</summary>
    public const string ConfigFileName = PretrainedFolder.ConfigFileName, WeightsFileName = PretrainedFolder.WeightsFileName;

    public readonly Encoder encoder;
    public readonly Conv2d quant_conv;
    public readonly VectorQuantizer quantize;
    public readonly Conv2d post_quant_conv;
    public readonly Decoder decoder;

    /// <summary>The configuration this model was built from.</summary>
    public VQModelConfig Config { get; }

    /// <summary>Builds a freshly initialised model (training mode, float32).</summary>
    /// <param name="config">Architecture.</param>
    /// <param name="quantizer">Quantizer loss weighting and codebook updates; null for diffusers' defaults.</param>
    /// <param name="generator">Random source of the quantizer (initial codebook, k-means, restarts).</param>
    /// <exception cref="ArgumentException">Inconsistent config (list lengths, sizes below 1, norm_type spatial).</exception>
    public VQModel(VQModelConfig config, VectorQuantizerOptions? quantizer = null, Generator? generator = null) : base(nameof(VQModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.UpBlockTypes.Count != config.DownBlockTypes.Count)
            throw new ArgumentException($"up_block_types ({config.UpBlockTypes.Count}) and down_block_types ({config.DownBlockTypes.Count}) must have the same length", nameof(config));
        if (config.LatentChannels < 1 || config.EmbedDim < 1 || config.NumVqEmbeddings < 1 || config.LayersPerBlock < 1)
            throw new ArgumentException($"latent_channels ({config.LatentChannels}), vq_embed_dim ({config.EmbedDim}), num_vq_embeddings ({config.NumVqEmbeddings}) and layers_per_block ({config.LayersPerBlock}) must be >= 1", nameof(config));
        Config = config;
        encoder = new Encoder(config.InChannels, config.LatentChannels, config.DownBlockTypes, config.BlockOutChannels,
            config.LayersPerBlock, config.NormNumGroups, config.ActFn, doubleZ: false, config.MidBlockAddAttention);
        quant_conv = nn.Conv2d(config.LatentChannels, config.EmbedDim, 1);
        quantize = new VectorQuantizer(config.NumVqEmbeddings, config.EmbedDim, quantizer, generator);
        post_quant_conv = nn.Conv2d(config.EmbedDim, config.LatentChannels, 1);
        decoder = new Decoder(config.LatentChannels, config.OutChannels, config.UpBlockTypes, config.BlockOutChannels,
            config.LayersPerBlock, config.NormNumGroups, config.ActFn, config.NormType, config.MidBlockAddAttention);
        RegisterComponents();
    }

    /// <summary>Floating dtype of the parameters.</summary>
    public ScalarType Dtype => quant_conv.weight!.dtype;

    /// <summary>Total down-sampling factor: 2^(stages − 1).</summary>
    public int DownsampleFactor => 1 << (Config.BlockOutChannels.Count - 1);

    /// <summary>Encoder and quant_conv: the continuous latents before quantisation (diffusers' <c>encode(x).latents</c>).</summary>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <returns>(B, vq_embed_dim, H/f, W/f) with f = <see cref="DownsampleFactor"/>.</returns>
    /// <exception cref="ArgumentException">The sample is not (B, in_channels, H, W).</exception>
    public Tensor Encode(Tensor sample)
    {
        using var scope = torch.NewDisposeScope();
        return quant_conv.call(encoder.call(sample)).MoveToOuterDisposeScope();
    }

    /// <summary>Nearest codes of the latents, with losses, indices and code statistics.</summary>
    /// <param name="latents">(B, vq_embed_dim, h, w) from <see cref="Encode"/>.</param>
    public VectorQuantizerOutput Quantize(Tensor latents) => quantize.call(latents);

    /// <summary>post_quant_conv and decoder applied to already-quantized (or deliberately unquantized) latents.</summary>
    /// <param name="quantized">(B, vq_embed_dim, h, w).</param>
    /// <returns>(B, out_channels, h·f, w·f).</returns>
    public Tensor DecodeQuantized(Tensor quantized)
    {
        Shapes.RequireRank(quantized, 4, $"(B, {Config.EmbedDim}, h, w)", nameof(quantized));
        Shapes.RequireDim(quantized, 1, Config.EmbedDim, $"(B, {Config.EmbedDim}, h, w)", nameof(quantized));
        using var scope = torch.NewDisposeScope();
        return decoder.call(post_quant_conv.call(quantized)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// diffusers' <c>decode</c>: quantize (unless <paramref name="forceNotQuantize"/>), then <see cref="DecodeQuantized"/>.
    /// With <paramref name="forceNotQuantize"/> and lookup_from_codebook, <paramref name="h"/> holds code indices that are
    /// looked up in the codebook and laid out as <paramref name="shape"/>.
    /// </summary>
    /// <param name="h">(B, vq_embed_dim, h, w) latents, or B·h·w int64 code indices (lookup_from_codebook).</param>
    /// <param name="forceNotQuantize">Skip the quantizer: decode the latents as they are (or the looked-up codes).</param>
    /// <param name="shape">(B, h, w, vq_embed_dim) of the looked-up latents; required for the codebook lookup.</param>
    /// <returns>The image and the quantizer loss (() when quantizing, (B) zeros otherwise).</returns>
    /// <exception cref="ArgumentException">Wrong latent shape, or indices without a valid <paramref name="shape"/>.</exception>
    public DecoderOutput Decode(Tensor h, bool forceNotQuantize = false, long[]? shape = null)
    {
        ArgumentNullException.ThrowIfNull(h);
        using var scope = torch.NewDisposeScope();
        Tensor quant, commitLoss;
        if (!forceNotQuantize)
        {
            var q = quantize.call(h);
            quant = q.Quantized;
            commitLoss = q.Loss;
        }
        else
        {
            if (Config.LookupFromCodebook)
            {
                if (shape is null) throw new ArgumentException("decoding code indices (lookup_from_codebook) needs shape (B, h, w, vq_embed_dim)", nameof(shape));
                quant = quantize.GetCodebookEntry(h, shape);
            }
            else quant = h;
            commitLoss = zeros(quant.shape[0], dtype: quant.dtype, device: quant.device);
        }
        var sample = DecodeQuantized(quant);
        return new DecoderOutput(sample.MoveToOuterDisposeScope(), commitLoss.MoveToOuterDisposeScope());
    }

    /// <summary>Encode, quantize, decode (diffusers' <c>forward</c>).</summary>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <returns>The reconstruction (B, out_channels, H', W') and the quantizer loss ().</returns>
    public override DecoderOutput forward(Tensor sample)
    {
        using var scope = torch.NewDisposeScope();
        var output = Decode(Encode(sample));
        return new DecoderOutput(output.Sample.MoveToOuterDisposeScope(), output.CommitLoss!.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Loads a diffusers <c>save_pretrained</c> folder (<c>config.json</c>, <c>diffusion_pytorch_model.safetensors</c>)
    /// strictly: every key present, no extra keys, shapes equal. Returns the model in eval mode.
    /// </summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="dtype">Float32 (default) or Float64; weights are converted.</param>
    /// <param name="quantizer">Quantizer options the weights were saved with (EMA/k-means add state keys); null for diffusers'.</param>
    /// <param name="generator">Random source of the quantizer's further training (k-means, restarts).</param>
    /// <exception cref="FileNotFoundException">config.json or the weights file is missing (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The config is not a VQModel config or cannot be parsed.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not match the config (names the file and the keys).</exception>
    public static VQModel FromPretrained(string directory, ScalarType dtype = ScalarType.Float32, VectorQuantizerOptions? quantizer = null,
        Generator? generator = null) =>
        PretrainedFolder.Load(directory, dtype, nameof(VQModel), VQModelConfig.FromFile, c => c.Extra, c => new VQModel(c, quantizer, generator));

    /// <summary>
    /// Writes a diffusers model folder: config.json with <c>_class_name</c> "VQModel" and the weights as safetensors in
    /// the model's dtype, each file atomically.
    /// </summary>
    /// <param name="directory">Created if missing.</param>
    public void SavePretrained(string directory) =>
        PretrainedFolder.Save(this, directory, (Config with { Extra = PretrainedFolder.WithClassName(Config.Extra, nameof(VQModel)) }).ToJson());
}
