using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// Stable Diffusion image-to-image (SDEdit, Meng et al. 2022, https://arxiv.org/abs/2108.01073) from prompt embeddings:
/// encode the image with the VAE, noise its latents to the timestep <c>strength</c> of the way into the schedule, and
/// denoise from there (<see cref="DenoisingLoop"/>). Follows diffusers v0.33.1
/// <c>pipelines/stable_diffusion/pipeline_stable_diffusion_img2img.py</c> (<c>StableDiffusionImg2ImgPipeline.__call__</c>).
/// </summary>
public sealed class StableDiffusionImg2ImgPipeline(UNet2DConditionModel unet, AutoencoderKL vae, IDiffusionScheduler scheduler,
    CLIPTokenizer? tokenizer = null, CLIPTextModel? textEncoder = null)
    : StableDiffusionPipelineBase(unet, vae, scheduler, tokenizer, textEncoder)
{
    /// <inheritdoc cref="StableDiffusionPipeline.FromPretrained"/>
    public static StableDiffusionImg2ImgPipeline FromPretrained(string directory, ScalarType dtype = ScalarType.Float32, string? schedulerClassName = null) =>
        Load(DiffusersPipelineFolder.Open(directory), dtype, schedulerClassName, (u, v, s, t, e) => new StableDiffusionImg2ImgPipeline(u, v, s, t, e));

    /// <summary>Transforms <paramref name="image"/> under a prompt (diffusers' <c>pipe(prompt, image, negative_prompt=…)</c>).</summary>
    /// <param name="prompt">The text; cut to the tokenizer's 77 tokens (the output's Warnings quote what was dropped).</param>
    /// <param name="negativePrompt">What guidance steers away from; null: the empty prompt.</param>
    /// <param name="image">(b, 3, H, W) in [0, 1], b = 1 or n (see the embeddings-level call).</param>
    /// <param name="options">Strength, steps, guidance, clip_skip, images per prompt, the recorded noises.</param>
    /// <param name="generator">Draws the posterior noise, then the added noise (when not given), then any scheduler noise.</param>
    /// <param name="progress">Called after each denoising step.</param>
    /// <exception cref="InvalidOperationException">The pipeline has no tokenizer and text encoder.</exception>
    /// <exception cref="ArgumentException">Shapes that do not fit, or a strength that leaves no step.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Strength outside [0, 1].</exception>
    public StableDiffusionOutput Call(string prompt, string? negativePrompt, Tensor image, StableDiffusionImg2ImgOptions? options = null,
        Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        options ??= new StableDiffusionImg2ImgOptions();
        return FromText(prompt, negativePrompt, options, (p, n) => Call(p, n, image, options, generator, progress));
    }

    /// <summary>Transforms <paramref name="image"/> under the prompt embeddings.</summary>
    /// <param name="promptEmbeds">(B, M, cross_attention_dim).</param>
    /// <param name="negativePromptEmbeds">(B, M, cross_attention_dim); needed when guidance_scale &gt; 1.</param>
    /// <param name="image">(b, 3, H, W) in [0, 1] (or in [-1, 1] when it has negative values), b = 1 or B·n; H and W are
    /// rounded down to the VAE's scale factor. (b, latent_channels, h, w) is taken as latents already.</param>
    /// <param name="options">Strength, steps, guidance, images per prompt, the recorded noises.</param>
    /// <param name="generator">Draws the posterior noise, then the added noise (when not given), then any scheduler noise.</param>
    /// <param name="progress">Called after each denoising step.</param>
    /// <returns>B·n images (B, 3, H, W) in [0, 1] and the final latents.</returns>
    /// <exception cref="ArgumentException">Shapes that do not fit, or a strength that leaves no step.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Strength outside [0, 1].</exception>
    public StableDiffusionOutput Call(Tensor promptEmbeds, Tensor? negativePromptEmbeds, Tensor image, StableDiffusionImg2ImgOptions? options = null,
        Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        options ??= new StableDiffusionImg2ImgOptions();
        Begin(options);
        if (!(options.Strength >= 0 && options.Strength <= 1))
            throw new ArgumentOutOfRangeException("strength", options.Strength, $"strength must be in [0, 1]; got {options.Strength}");
        using var scope = torch.NewDisposeScope();
        var text = Text(promptEmbeds, negativePromptEmbeds, options);
        long batch = text.PromptEmbeds.shape[0];

        // 1. The image in [-1, 1] (VaeImageProcessor.preprocess).
        var pixels = image is { } im && im.dim() == 4 && im.shape[1] == Vae.Config.LatentChannels ? im : Preprocess(image, normalize: true);

        // 2. The tail of the schedule: int(N · strength) steps, starting at index N - that (get_timesteps).
        int n = options.NumInferenceSteps;
        Scheduler.SetTimesteps(n);
        int initTimestep = Math.Min((int)(n * options.Strength), n);
        int tStart = Math.Max(n - initTimestep, 0);
        var timesteps = Scheduler.Timesteps.Skip(tStart * Scheduler.Order).ToArray();
        if (timesteps.Length == 0)
            throw new ArgumentException($"strength {options.Strength} with {n} steps leaves no denoising step (int(steps · strength) = 0)", nameof(options));
        Scheduler.SetBeginIndex(tStart * Scheduler.Order);

        // 3. x_t of the image's latents at the first of them (prepare_latents).
        var latents = NoisedImageLatents(pixels, batch, timesteps[0], options, generator);

        // 4. Denoise, 5. decode.
        var final = DenoisingLoop.Run(Unet, Scheduler, latents, timesteps, text, null, generator, progress);
        return Escape(Finish(final, options));
    }

    /// <summary>The VAE posterior sample times scaling_factor, repeated to the batch, noised to <paramref name="timestep"/>.</summary>
    Tensor NoisedImageLatents(Tensor pixels, long batch, double timestep, StableDiffusionImg2ImgOptions options, Generator? generator)
    {
        var dtype = Unet.Dtype;
        Tensor initLatents;
        if (pixels.shape[1] == Vae.Config.LatentChannels)
            initLatents = pixels.to(dtype);
        else
        {
            using var noGrad = torch.no_grad();
            using var posterior = Vae.Encode(pixels.to(Vae.Dtype));
            var posteriorNoise = options.ImageLatentNoise?.to(posterior.Mean.dtype);
            if (posteriorNoise is null) posteriorNoise = torch.randn(posterior.Mean.shape, dtype: posterior.Mean.dtype, generator: generator);
            initLatents = (Vae.Config.ScalingFactor * posterior.Sample(posteriorNoise)).to(dtype);
        }
        long b = initLatents.shape[0];
        if (batch > b)
        {
            if (batch % b != 0)
                throw new ArgumentException($"cannot repeat {b} images to a batch of {batch} (B · num_images_per_prompt)", "image");
            initLatents = torch.cat(Enumerable.Repeat(initLatents, (int)(batch / b)).ToArray()); // whole batches, as diffusers (deprecated there)
        }
        else if (batch < b)
            throw new ArgumentException($"{b} images for a batch of {batch} (B · num_images_per_prompt)", "image");
        if (options.Noise is { } given && !given.shape.SequenceEqual(initLatents.shape))
            throw new ArgumentException($"Noise must be {Shapes.Format(initLatents)}; got {Shapes.Format(given)}", nameof(options));
        var noise = options.Noise?.to(dtype) ?? torch.randn(initLatents.shape, dtype: dtype, generator: generator);
        return Scheduler.AddNoise(initLatents, noise, DenoisingLoop.TimestepTensor(timestep, initLatents.device, batch));
    }
}
