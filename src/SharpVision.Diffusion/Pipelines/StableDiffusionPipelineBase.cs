using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// The components and the steps the Stable Diffusion pipelines share (diffusers v0.33.1 <c>StableDiffusionPipeline</c>
/// and the pipelines that copy its methods): prompt embeddings per image, latent preparation, VAE decoding and
/// post-processing. The denoising itself is <see cref="DenoisingLoop"/>.
/// </summary>
public abstract class StableDiffusionPipelineBase
{
    /// <summary>The denoising UNet.</summary>
    public UNet2DConditionModel Unet { get; }

    /// <summary>The latent autoencoder.</summary>
    public AutoencoderKL Vae { get; }

    /// <summary>The scheduler; each call sets its timesteps.</summary>
    public IDiffusionScheduler Scheduler { get; }

    /// <summary>Pixels per latent: 2^(len(vae.block_out_channels) - 1) (8 for Stable Diffusion).</summary>
    public int VaeScaleFactor => 1 << (Vae.Config.BlockOutChannels.Count - 1);

    /// <exception cref="ArgumentException">The VAE's latent channels differ from the UNet's input channels.</exception>
    protected StableDiffusionPipelineBase(UNet2DConditionModel unet, AutoencoderKL vae, IDiffusionScheduler scheduler)
    {
        Unet = unet ?? throw new ArgumentNullException(nameof(unet));
        Vae = vae ?? throw new ArgumentNullException(nameof(vae));
        Scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        if (vae.Config.LatentChannels != unet.Config.InChannels)
            throw new ArgumentException($"the VAE has {vae.Config.LatentChannels} latent channels but the UNet takes {unet.Config.InChannels}", nameof(vae));
    }

    /// <summary>unet/, vae/ and scheduler/ of a diffusers pipeline folder, handed to <paramref name="create"/>.</summary>
    /// <exception cref="FileNotFoundException">model_index.json or a component file is missing (the message names it).</exception>
    /// <exception cref="DirectoryNotFoundException">A component folder is missing (the message names it).</exception>
    protected static TPipeline Load<TPipeline>(DiffusersPipelineFolder folder, ScalarType dtype, string? schedulerClassName,
        Func<UNet2DConditionModel, AutoencoderKL, IDiffusionScheduler, TPipeline> create) =>
        create(folder.LoadUNet(dtype), folder.LoadVae(dtype), folder.LoadScheduler(schedulerClassName));

    /// <summary>Checks the common options and sets the scheduler's eta where its step takes one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Steps or images per prompt below 1, or a negative eta.</exception>
    protected void Begin(DiffusionCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.NumInferenceSteps, "num_inference_steps");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.NumImagesPerPrompt, "num_images_per_prompt");
        if (!(options.Eta >= 0)) throw new ArgumentOutOfRangeException("eta", options.Eta, $"eta must be >= 0; got {options.Eta}");
        if (Scheduler is DDIMScheduler ddim) ddim.Eta = options.Eta;
    }

    /// <summary>The prompt embeddings cast to the UNet's dtype and repeated per image (diffusers' <c>encode_prompt</c> given embeddings).</summary>
    /// <exception cref="ArgumentException">Not (B, M, cross_attention_dim), or negative embeddings missing under guidance.</exception>
    protected TextGuidance Text(Tensor promptEmbeds, Tensor? negativePromptEmbeds, DiffusionCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(promptEmbeds);
        int dim = Unet.Config.CrossAttentionDim;
        if (promptEmbeds.dim() != 3 || promptEmbeds.shape[2] != dim)
            throw new ArgumentException($"promptEmbeds must be (B, M, {dim}); got {Shapes.Format(promptEmbeds)}", nameof(promptEmbeds));
        var dtype = Unet.Dtype;
        return new TextGuidance(promptEmbeds.to(dtype), negativePromptEmbeds?.to(dtype), options.GuidanceScale).PerImage(options.NumImagesPerPrompt);
    }

    /// <summary>Height and width in pixels: given ones (multiples of 8, as diffusers checks) or the defaults.</summary>
    /// <exception cref="ArgumentException">Not a positive multiple of 8.</exception>
    protected static (int Height, int Width) Size(int? height, int? width, int defaultHeight, int defaultWidth)
    {
        int h = height ?? defaultHeight, w = width ?? defaultWidth;
        if (h <= 0 || h % 8 != 0 || w <= 0 || w % 8 != 0)
            throw new ArgumentException($"height and width must be positive multiples of 8; got {h} and {w}", nameof(height));
        return (h, w);
    }

    /// <summary>Given height and width, else the UNet's sample_size times <see cref="VaeScaleFactor"/>; checked by <see cref="Size"/>.</summary>
    /// <exception cref="ArgumentException">A size missing and the UNet config has no sample_size, or not multiples of 8.</exception>
    protected (int Height, int Width) SizeOrDefault(int? height, int? width)
    {
        if (height is null || width is null)
        {
            var s = Unet.Config.SampleSize ?? throw new ArgumentException("the UNet config has no sample_size; give the height and width", nameof(height));
            height ??= s[0] * VaeScaleFactor;
            width ??= (s.Length > 1 ? s[1] : s[0]) * VaeScaleFactor;
        }
        return Size(height, width, height.Value, width.Value);
    }

    /// <summary>Moves a call's result out of the call's dispose scope.</summary>
    protected static StableDiffusionOutput Escape(StableDiffusionOutput output)
    {
        output.Images?.MoveToOuterDisposeScope();
        output.Latents.MoveToOuterDisposeScope();
        return output;
    }

    /// <summary>diffusers' <c>prepare_latents</c>: the given or drawn (B, C, H/f, W/f) noise times init_noise_sigma.</summary>
    /// <exception cref="ArgumentException">Given latents of another shape.</exception>
    protected Tensor InitialLatents(long batch, int height, int width, Tensor? latents, Generator? generator)
    {
        long[] shape = [batch, Unet.Config.InChannels, height / VaeScaleFactor, width / VaeScaleFactor];
        if (latents is not null && !latents.shape.SequenceEqual(shape))
            throw new ArgumentException($"latents must be {Shapes.Format(shape)}; got {Shapes.Format(latents)}", nameof(latents));
        var noise = latents?.to(Unet.Dtype) ?? torch.randn(shape, dtype: Unet.Dtype, generator: generator);
        return noise * Scheduler.InitNoiseSigma;
    }

    /// <summary>Decodes the final latents (unless not asked to) into (B, 3, H, W) images in [0, 1].</summary>
    protected StableDiffusionOutput Finish(Tensor latents, DiffusionCallOptions options)
    {
        if (!options.DecodeImages) return new StableDiffusionOutput(null, latents);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var decoded = Vae.Decode(latents / Vae.Config.ScalingFactor); // (B, 3, H, W) in about [-1, 1]
        var images = (decoded * 0.5 + 0.5).clamp(0, 1); // VaeImageProcessor.denormalize
        return new StableDiffusionOutput(images.MoveToOuterDisposeScope(), latents);
    }

    /// <summary>
    /// diffusers' <c>VaeImageProcessor.preprocess</c> for a tensor: (B, C, H, W) at the given size (nearest resize when it
    /// differs; default its own size rounded down to <see cref="VaeScaleFactor"/>), then [0, 1] to [-1, 1] when
    /// <paramref name="normalize"/> and the image has no negative value (one that has is taken as already in [-1, 1]).
    /// </summary>
    /// <exception cref="ArgumentException">Not (B, C, H, W).</exception>
    protected Tensor Preprocess(Tensor image, bool normalize, int? height = null, int? width = null, string paramName = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() == 3) image = image.unsqueeze(0);
        if (image.dim() != 4) throw new ArgumentException($"{paramName} must be (B, C, H, W) or (C, H, W); got {Shapes.Format(image)}", paramName);
        image = image.to(ScalarType.Float32);
        long h = height ?? image.shape[2] - image.shape[2] % VaeScaleFactor, w = width ?? image.shape[3] - image.shape[3] % VaeScaleFactor;
        if (h != image.shape[2] || w != image.shape[3])
            image = nn.functional.interpolate(image, size: [h, w], mode: InterpolationMode.Nearest);
        if (normalize && image.min().item<float>() >= 0) image = 2.0 * image - 1.0;
        return image;
    }
}
