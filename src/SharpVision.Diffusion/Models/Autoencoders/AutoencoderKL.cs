using SharpVision.Nn;
using SharpVision.Nn.Checkpoints;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// diffusers' KL-regularised autoencoder (models/autoencoders/autoencoder_kl.py <c>AutoencoderKL</c>, Stable Diffusion's
/// VAE): <see cref="Encoder"/> (double_z) → optional 1×1 <c>quant_conv</c> → <see cref="DiagonalGaussianDistribution"/>;
/// latents → optional 1×1 <c>post_quant_conv</c> → <see cref="Decoder"/>. Parameter names equal diffusers' state_dict
/// keys (no tiling or slicing).
/// </summary>
public sealed class AutoencoderKL : nn.Module<Tensor, Tensor>
{
    /// <summary>File names of a diffusers model folder.</summary>
    public const string ConfigFileName = PretrainedFolder.ConfigFileName, WeightsFileName = PretrainedFolder.WeightsFileName;

    public readonly Encoder encoder;
    public readonly Decoder decoder;
    public readonly Conv2d? quant_conv;
    public readonly Conv2d? post_quant_conv;

    /// <summary>The configuration this model was built from.</summary>
    public AutoencoderKLConfig Config { get; }

    /// <summary>Builds a freshly initialised model (training mode, float32).</summary>
    /// <exception cref="ArgumentException">Inconsistent config (list lengths, sizes below 1).</exception>
    public AutoencoderKL(AutoencoderKLConfig config) : base(nameof(AutoencoderKL))
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.UpBlockTypes.Count != config.DownBlockTypes.Count)
            throw new ArgumentException($"up_block_types ({config.UpBlockTypes.Count}) and down_block_types ({config.DownBlockTypes.Count}) must have the same length", nameof(config));
        if (config.LatentChannels < 1 || config.LayersPerBlock < 1)
            throw new ArgumentException($"latent_channels ({config.LatentChannels}) and layers_per_block ({config.LayersPerBlock}) must be >= 1", nameof(config));
        Config = config;
        encoder = new Encoder(config.InChannels, config.LatentChannels, config.DownBlockTypes, config.BlockOutChannels,
            config.LayersPerBlock, config.NormNumGroups, config.ActFn, doubleZ: true, config.MidBlockAddAttention);
        decoder = new Decoder(config.LatentChannels, config.OutChannels, config.UpBlockTypes, config.BlockOutChannels,
            config.LayersPerBlock, config.NormNumGroups, config.ActFn, DecoderNormType.Group, config.MidBlockAddAttention);
        if (config.UseQuantConv) quant_conv = nn.Conv2d(2 * config.LatentChannels, 2 * config.LatentChannels, 1);
        if (config.UsePostQuantConv) post_quant_conv = nn.Conv2d(config.LatentChannels, config.LatentChannels, 1);
        RegisterComponents();
    }

    /// <summary>Floating dtype of the parameters.</summary>
    public ScalarType Dtype => encoder.conv_in.weight!.dtype;

    /// <summary>The posterior over latents (diffusers' <c>encode(x).latent_dist</c>); dispose it when done.</summary>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <returns>A Gaussian over (B, latent_channels, H/f, W/f).</returns>
    /// <exception cref="ArgumentException">The sample is not (B, in_channels, H, W).</exception>
    public DiagonalGaussianDistribution Encode(Tensor sample)
    {
        Tensor moments;
        using (torch.NewDisposeScope())
        {
            var h = encoder.call(sample);
            moments = (quant_conv is null ? h : quant_conv.call(h)).MoveToOuterDisposeScope(); // (B, 2C, h, w)
        }
        using (moments) return new DiagonalGaussianDistribution(moments);
    }

    /// <summary>post_quant_conv and decoder.</summary>
    /// <param name="latents">(B, latent_channels, h, w).</param>
    /// <returns>(B, out_channels, h·f, w·f).</returns>
    /// <exception cref="ArgumentException">Wrong latent shape.</exception>
    public Tensor Decode(Tensor latents)
    {
        Shapes.RequireRank(latents, 4, $"(B, {Config.LatentChannels}, h, w)", nameof(latents));
        Shapes.RequireDim(latents, 1, Config.LatentChannels, $"(B, {Config.LatentChannels}, h, w)", nameof(latents));
        using var scope = torch.NewDisposeScope();
        var z = post_quant_conv is null ? latents : post_quant_conv.call(latents);
        return decoder.call(z).MoveToOuterDisposeScope();
    }

    /// <summary>Encode and decode the posterior mode (diffusers' forward with sample_posterior=False).</summary>
    /// <param name="sample">(B, in_channels, H, W).</param>
    public override Tensor forward(Tensor sample) => Forward(sample, samplePosterior: false);

    /// <summary>Encode, take the posterior mode or a sample, decode.</summary>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <param name="samplePosterior">Decode mean + std·noise instead of the mean.</param>
    /// <param name="noise">(B, latent_channels, h, w) noise for the sample; drawn from <paramref name="generator"/> if null.</param>
    /// <returns>(B, out_channels, H, W).</returns>
    public Tensor Forward(Tensor sample, bool samplePosterior, Tensor? noise = null, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        using var posterior = Encode(sample);
        var z = samplePosterior ? posterior.Sample(noise, generator) : posterior.Mode();
        return Decode(z).MoveToOuterDisposeScope();
    }

    /// <summary>Loads a diffusers <c>save_pretrained</c> folder strictly; returns the model in eval mode.</summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="dtype">Float32 (default) or Float64; weights are converted.</param>
    /// <exception cref="FileNotFoundException">config.json or the weights file is missing (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The config is not an AutoencoderKL config or cannot be parsed.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not match the config.</exception>
    public static AutoencoderKL FromPretrained(string directory, ScalarType dtype = ScalarType.Float32) =>
        PretrainedFolder.Load(directory, dtype, nameof(AutoencoderKL), AutoencoderKLConfig.FromFile, c => c.Extra, c => new AutoencoderKL(c));

    /// <summary>Writes a diffusers model folder (config.json with <c>_class_name</c> "AutoencoderKL", safetensors weights), atomically.</summary>
    public void SavePretrained(string directory) =>
        PretrainedFolder.Save(this, directory, (Config with { Extra = PretrainedFolder.WithClassName(Config.Extra, nameof(AutoencoderKL)) }).ToJson());
}
