namespace SharpVision.Diffusion.Pipelines;

/// <summary>The options every Stable Diffusion pipeline call takes (diffusers' <c>__call__</c> arguments, same defaults).</summary>
public abstract record DiffusionCallOptions
{
    /// <summary>num_inference_steps: scheduler steps (image-to-image runs the last <c>strength</c> part of them).</summary>
    public int NumInferenceSteps { get; init; } = 50;

    /// <summary>guidance_scale s of classifier-free guidance; guidance runs when s &gt; 1 (then negative embeddings are needed).</summary>
    public double GuidanceScale { get; init; } = 7.5;

    /// <summary>num_images_per_prompt: images per row of the prompt embeddings.</summary>
    public int NumImagesPerPrompt { get; init; } = 1;

    /// <summary>eta of DDIM steps (diffusers passes it to schedulers whose step takes it: DDIM); ignored by the others.</summary>
    public double Eta { get; init; }

    /// <summary>clip_skip of a prompt-level call: text-encoder layers to skip from the end (1: the penultimate layer's
    /// states); null: the last hidden state. Ignored by calls given prompt embeddings.</summary>
    public int? ClipSkip { get; init; }

    /// <summary>Decode the final latents with the VAE (false: diffusers' <c>output_type="latent"</c>, no image).</summary>
    public bool DecodeImages { get; init; } = true;
}

/// <summary>Text-to-image options (<see cref="StableDiffusionPipeline"/>).</summary>
public sealed record StableDiffusionOptions : DiffusionCallOptions
{
    /// <summary>Image height in pixels, a multiple of 8; default the UNet's sample_size times the VAE's scale factor.</summary>
    public int? Height { get; init; }

    /// <summary>Image width in pixels, a multiple of 8; default as <see cref="Height"/>.</summary>
    public int? Width { get; init; }

    /// <summary>(B·n, C, H/f, W/f) starting noise; drawn from the generator when null. Scaled by init_noise_sigma.</summary>
    public Tensor? Latents { get; init; }
}

/// <summary>Image-to-image options (<see cref="StableDiffusionImg2ImgPipeline"/>).</summary>
public sealed record StableDiffusionImg2ImgOptions : DiffusionCallOptions
{
    /// <summary>strength in [0, 1]: how much noise is added to the image's latents; the loop runs int(N · strength) of N steps.</summary>
    public double Strength { get; init; } = 0.8;

    /// <summary>(b, C, H/f, W/f) the standard normal noise of the VAE posterior sample (diffusers' <c>latent_dist.sample</c>); drawn when null.</summary>
    public Tensor? ImageLatentNoise { get; init; }

    /// <summary>(B·n, C, H/f, W/f) the noise added to the image latents at the first timestep; drawn (after the posterior noise) when null.</summary>
    public Tensor? Noise { get; init; }
}

/// <summary>ControlNet text-to-image options (<see cref="StableDiffusionControlNetPipeline"/>).</summary>
public sealed record StableDiffusionControlNetOptions : DiffusionCallOptions
{
    /// <summary>Image height, a multiple of 8; default the control image's height (rounded down to the VAE's scale factor).</summary>
    public int? Height { get; init; }

    /// <summary>Image width, a multiple of 8; default the control image's width.</summary>
    public int? Width { get; init; }

    /// <summary>(B·n, C, H/f, W/f) starting noise; drawn from the generator when null.</summary>
    public Tensor? Latents { get; init; }

    /// <summary>controlnet_conditioning_scale: one per ControlNet, or one for all.</summary>
    public IReadOnlyList<double> ConditioningScales { get; init; } = [1.0];

    /// <summary>guess_mode: ControlNets see only the text half and scale their residuals from 0.1 (shallowest) to 1 (mid).</summary>
    public bool GuessMode { get; init; }

    /// <summary>control_guidance_start: fraction of steps before each ControlNet starts; one per ControlNet, or one for all.</summary>
    public IReadOnlyList<double> ControlGuidanceStart { get; init; } = [0.0];

    /// <summary>control_guidance_end: fraction of steps after which each ControlNet stops; one per ControlNet, or one for all.</summary>
    public IReadOnlyList<double> ControlGuidanceEnd { get; init; } = [1.0];
}

/// <summary>A pipeline call's result.</summary>
/// <param name="Images">(B·n, 3, H, W) in [0, 1] (diffusers' <c>output_type="pt"</c>; permute to (B, H, W, 3) for "np"), or null when not decoded.</param>
/// <param name="Latents">(B·n, C, H/f, W/f) the final latents (diffusers' <c>output_type="latent"</c>).</param>
public sealed record StableDiffusionOutput(Tensor? Images, Tensor Latents)
{
    /// <summary>What diffusers logs as warnings during the call: the text cut from prompts longer than the tokenizer's
    /// length (see <see cref="PromptEmbeddings.TruncationWarning"/>); empty when none.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
