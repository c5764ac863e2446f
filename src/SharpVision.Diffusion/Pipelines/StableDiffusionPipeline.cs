using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// Stable Diffusion text-to-image (Rombach et al. 2022, https://arxiv.org/abs/2112.10752) from a prompt or prompt embeddings: noise
/// latents, denoise them under the text conditioning with classifier-free guidance (<see cref="DenoisingLoop"/>), decode
/// with the VAE. Follows diffusers v0.33.1 <c>pipelines/stable_diffusion/pipeline_stable_diffusion.py</c>
/// (<c>StableDiffusionPipeline.__call__</c>), given <c>prompt</c> and <c>negative_prompt</c> (with a tokenizer and text
/// encoder) or <c>prompt_embeds</c> and <c>negative_prompt_embeds</c>.
/// </summary>
/// <remarks>With the same latents (or generator draws) and scheduler, the result equals diffusers' within float32 rounding.</remarks>
public sealed class StableDiffusionPipeline(UNet2DConditionModel unet, AutoencoderKL vae, IDiffusionScheduler scheduler,
    CLIPTokenizer? tokenizer = null, CLIPTextModel? textEncoder = null)
    : StableDiffusionPipelineBase(unet, vae, scheduler, tokenizer, textEncoder)
{
    /// <summary>Loads unet/, vae/, scheduler/ and (where present) tokenizer/ and text_encoder/ of a diffusers pipeline folder.</summary>
    /// <param name="directory">The folder with model_index.json.</param>
    /// <param name="dtype">The models' dtype (Float32 default; BFloat16, Float16, Float64).</param>
    /// <param name="schedulerClassName">Another scheduler class on the folder's noise schedule; null for the folder's own.</param>
    /// <exception cref="FileNotFoundException">model_index.json or a component file is missing (the message names it).</exception>
    /// <exception cref="DirectoryNotFoundException">A component folder is missing (the message names it).</exception>
    public static StableDiffusionPipeline FromPretrained(string directory, ScalarType dtype = ScalarType.Float32, string? schedulerClassName = null) =>
        Load(DiffusersPipelineFolder.Open(directory), dtype, schedulerClassName, (u, v, s, t, e) => new StableDiffusionPipeline(u, v, s, t, e));

    /// <summary>Generates images from a prompt (diffusers' <c>pipe(prompt, negative_prompt=…)</c>).</summary>
    /// <param name="prompt">The text; cut to the tokenizer's 77 tokens (the output's Warnings quote what was dropped).</param>
    /// <param name="negativePrompt">What guidance steers away from; null: the empty prompt. Unused without guidance.</param>
    /// <param name="options">Steps, guidance, clip_skip, size, images per prompt, latents; defaults as diffusers'.</param>
    /// <param name="generator">Draws the latents (when not given) and any scheduler noise.</param>
    /// <param name="progress">Called after each denoising step.</param>
    /// <returns>n images (n, 3, H, W) in [0, 1], the final latents and the truncation warnings.</returns>
    /// <exception cref="InvalidOperationException">The pipeline has no tokenizer and text encoder.</exception>
    /// <exception cref="ArgumentException">Latents of the wrong shape, a size not a multiple of 8.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Steps or images per prompt below 1, clip_skip out of range.</exception>
    public StableDiffusionOutput Call(string prompt, string? negativePrompt = null, StableDiffusionOptions? options = null,
        Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        options ??= new StableDiffusionOptions();
        return FromText(prompt, negativePrompt, options, (p, n) => Call(p, n, options, generator, progress));
    }

    /// <summary>Generates images from prompt embeddings.</summary>
    /// <param name="promptEmbeds">(B, M, cross_attention_dim) the text encoder's states of B prompts.</param>
    /// <param name="negativePromptEmbeds">(B, M, cross_attention_dim) the negative prompts' (the empty prompt's when none); needed when guidance_scale &gt; 1.</param>
    /// <param name="options">Steps, guidance, size, images per prompt, latents; defaults as diffusers'.</param>
    /// <param name="generator">Draws the latents (when not given) and any scheduler noise.</param>
    /// <param name="progress">Called after each denoising step.</param>
    /// <returns>B·n images (B, 3, H, W) in [0, 1] and the final latents.</returns>
    /// <exception cref="ArgumentException">Embeddings or latents of the wrong shape, a size not a multiple of 8, guidance without negative embeddings.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Steps or images per prompt below 1.</exception>
    public StableDiffusionOutput Call(Tensor promptEmbeds, Tensor? negativePromptEmbeds = null, StableDiffusionOptions? options = null,
        Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        options ??= new StableDiffusionOptions();
        Begin(options);
        using var scope = torch.NewDisposeScope();
        // 1. Size, and the text conditioning repeated per image.
        var (height, width) = SizeOrDefault(options.Height, options.Width);
        var text = Text(promptEmbeds, negativePromptEmbeds, options);
        // 2. Timesteps, then the starting latents x_T = sigma_max-scaled noise.
        Scheduler.SetTimesteps(options.NumInferenceSteps);
        var latents = InitialLatents(text.PromptEmbeds.shape[0], height, width, options.Latents, generator);
        // 3. Denoise, 4. decode.
        var final = DenoisingLoop.Run(Unet, Scheduler, latents, Scheduler.Timesteps, text, null, generator, progress);
        return Escape(Finish(final, options));
    }
}
