using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// The components and the steps the Stable Diffusion pipelines share (diffusers v0.33.1 <c>StableDiffusionPipeline</c>
/// and the pipelines that copy its methods): prompt embeddings per image, latent preparation, VAE decoding and
/// post-processing. The denoising itself is <see cref="DenoisingLoop"/>. With a tokenizer and text encoder the
/// pipelines also take prompts as text (<see cref="EncodePrompt"/>, diffusers' <c>encode_prompt</c>).
/// </summary>
public abstract class StableDiffusionPipelineBase
{
    /// <summary>The denoising UNet.</summary>
    public UNet2DConditionModel Unet { get; }

    /// <summary>The latent autoencoder.</summary>
    public AutoencoderKL Vae { get; }

    /// <summary>The scheduler; each call sets its timesteps.</summary>
    public IDiffusionScheduler Scheduler { get; }

    /// <summary>The prompt tokenizer (<c>tokenizer/</c>); null for a pipeline run from prompt embeddings only.</summary>
    public CLIPTokenizer? Tokenizer { get; }

    /// <summary>The text encoder (<c>text_encoder/</c>); null for a pipeline run from prompt embeddings only.</summary>
    public CLIPTextModel? TextEncoder { get; }

    /// <summary>Pixels per latent: 2^(len(vae.block_out_channels) - 1) (8 for Stable Diffusion).</summary>
    public int VaeScaleFactor => 1 << (Vae.Config.BlockOutChannels.Count - 1);

    /// <exception cref="ArgumentException">The VAE's latent channels differ from the UNet's input channels, only one of
    /// tokenizer and text encoder is given, or the text encoder's width is not the UNet's cross_attention_dim.</exception>
    protected StableDiffusionPipelineBase(UNet2DConditionModel unet, AutoencoderKL vae, IDiffusionScheduler scheduler,
        CLIPTokenizer? tokenizer, CLIPTextModel? textEncoder)
    {
        Unet = unet ?? throw new ArgumentNullException(nameof(unet));
        Vae = vae ?? throw new ArgumentNullException(nameof(vae));
        Scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        if (vae.Config.LatentChannels != unet.Config.InChannels)
            throw new ArgumentException($"the VAE has {vae.Config.LatentChannels} latent channels but the UNet takes {unet.Config.InChannels}", nameof(vae));
        if ((tokenizer is null) != (textEncoder is null))
            throw new ArgumentException("give both the tokenizer and the text encoder, or neither", tokenizer is null ? nameof(tokenizer) : nameof(textEncoder));
        if (textEncoder is not null && textEncoder.Config.HiddenSize != unet.Config.CrossAttentionDim)
            throw new ArgumentException($"the text encoder's hidden_size {textEncoder.Config.HiddenSize} differs from the UNet's cross_attention_dim {unet.Config.CrossAttentionDim}",
                nameof(textEncoder));
        Tokenizer = tokenizer;
        TextEncoder = textEncoder;
    }

    /// <summary>unet/, vae/, scheduler/ and, where the folder has them, tokenizer/ and text_encoder/ of a diffusers
    /// pipeline folder, handed to <paramref name="create"/>.</summary>
    /// <exception cref="FileNotFoundException">model_index.json or a component file is missing (the message names it).</exception>
    /// <exception cref="DirectoryNotFoundException">A component folder is missing (the message names it).</exception>
    protected static TPipeline Load<TPipeline>(DiffusersPipelineFolder folder, ScalarType dtype, string? schedulerClassName,
        Func<UNet2DConditionModel, AutoencoderKL, IDiffusionScheduler, CLIPTokenizer?, CLIPTextModel?, TPipeline> create)
    {
        bool text = folder.Provides("tokenizer") || folder.Provides("text_encoder");
        return create(folder.LoadUNet(dtype), folder.LoadVae(dtype), folder.LoadScheduler(schedulerClassName),
            text ? folder.LoadTokenizer() : null, text ? folder.LoadTextEncoder(dtype) : null);
    }

    /// <summary>
    /// diffusers v0.33.1 <c>StableDiffusionPipeline.encode_prompt</c> from text: each prompt tokenized to the tokenizer's
    /// length (77; longer ones cut, with diffusers' warning quoting what was dropped), encoded by the text encoder
    /// (clip_skip: the states clip_skip layers before the last, after the final layer norm); under guidance the negative
    /// prompts ("" when none) likewise, without clip_skip, as diffusers does. Rows are not repeated per image here.
    /// </summary>
    /// <param name="prompts">B prompts.</param>
    /// <param name="negativePrompts">B negative prompts, one (for every prompt), or null (the empty prompt).</param>
    /// <param name="guided">Whether classifier-free guidance runs (guidance_scale &gt; 1), so negative embeddings are needed.</param>
    /// <param name="clipSkip">Text-encoder layers to skip from the end; null or 0: the last hidden state.</param>
    /// <returns>(B, 77, D) embeddings in the UNet's dtype, the token ids and the truncation warnings.</returns>
    /// <exception cref="InvalidOperationException">The pipeline has no tokenizer and text encoder.</exception>
    /// <exception cref="ArgumentException">No prompts, or a count of negative prompts that is neither 1 nor B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">clipSkip negative or not below the encoder's layer count.</exception>
    public PromptEmbeddings EncodePrompt(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts = null, bool guided = true, int? clipSkip = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (Tokenizer is null || TextEncoder is null)
            throw new InvalidOperationException("this pipeline has no tokenizer and text encoder (load a folder with tokenizer/ and text_encoder/, or pass prompt embeddings)");
        if (prompts.Count == 0) throw new ArgumentException("prompts must not be empty", nameof(prompts));
        if (negativePrompts is { Count: var n } && n != 1 && n != prompts.Count)
            throw new ArgumentException($"{n} negative prompts for {prompts.Count} prompts: give one, or one per prompt", nameof(negativePrompts));
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var tokens = Tokenizer.TokenizeBatch(prompts);
        var warnings = tokens.Encodings.Where(e => e.WasTruncated).Select(e => PromptEmbeddings.TruncationWarning(Tokenizer.ModelMaxLength, e)).ToArray();
        var embeds = Encode(tokens, clipSkip); // (B, 77, D)
        Tensor? negativeIds = null, negativeEmbeds = null;
        if (guided)
        {
            var negatives = negativePrompts is null ? Enumerable.Repeat("", prompts.Count).ToArray()
                : negativePrompts.Count == 1 ? Enumerable.Repeat(negativePrompts[0], prompts.Count).ToArray() : negativePrompts;
            var negativeTokens = Tokenizer.TokenizeBatch(negatives, (int)tokens.InputIds.shape[1]);
            negativeIds = negativeTokens.InputIds;
            negativeEmbeds = Encode(negativeTokens, null).MoveToOuterDisposeScope();
            negativeIds.MoveToOuterDisposeScope();
        }
        return new PromptEmbeddings(embeds.MoveToOuterDisposeScope(), negativeEmbeds, tokens.InputIds.MoveToOuterDisposeScope(), negativeIds, warnings);
    }

    // The text encoder's states in the UNet's dtype; the padding mask only where the config asks for it (use_attention_mask).
    Tensor Encode(CLIPTokenizerOutput tokens, int? clipSkip)
    {
        bool useMask = TextEncoder!.Config.Extra is { } extra && extra.TryGetValue("use_attention_mask", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.True;
        return TextEncoder.EncodePrompt(tokens.InputIds, clipSkip, useMask ? tokens.AttentionMask : null).to(Unet.Dtype);
    }

    /// <summary>
    /// A prompt-level call: encodes the prompt (<see cref="EncodePrompt"/>, guidance and clip_skip from the options),
    /// runs <paramref name="call"/> on the embeddings, and hands back its output with the truncation warnings.
    /// </summary>
    protected StableDiffusionOutput FromText(string prompt, string? negativePrompt, DiffusionCallOptions options,
        Func<Tensor, Tensor?, StableDiffusionOutput> call)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        using var scope = torch.NewDisposeScope();
        var text = EncodePrompt([prompt], negativePrompt is null ? null : [negativePrompt], options.GuidanceScale > 1.0, options.ClipSkip);
        return Escape(call(text.PromptEmbeds, text.NegativePromptEmbeds)) with { Warnings = text.Warnings };
    }

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
