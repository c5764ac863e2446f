using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// Stable Diffusion text-to-image under one or several ControlNets (Zhang et al. 2023, https://arxiv.org/abs/2302.05543)
/// from prompt embeddings: the text conditioning with guidance and the ControlNets' residuals (<see cref="ControlNetGuidance"/>)
/// composed in <see cref="DenoisingLoop"/>. Follows diffusers v0.33.1 <c>pipelines/controlnet/pipeline_controlnet.py</c>
/// (<c>StableDiffusionControlNetPipeline.__call__</c>): conditioning scales, guess mode, control_guidance_start/end.
/// </summary>
public sealed class StableDiffusionControlNetPipeline : StableDiffusionPipelineBase
{
    /// <summary>The ControlNets, in the order their condition images are given.</summary>
    public IReadOnlyList<ControlNetModel> ControlNets { get; }

    /// <exception cref="ArgumentException">No ControlNets, or one whose encoder does not match the UNet's.</exception>
    public StableDiffusionControlNetPipeline(UNet2DConditionModel unet, AutoencoderKL vae, IDiffusionScheduler scheduler, IReadOnlyList<ControlNetModel> controlnets,
        CLIPTokenizer? tokenizer = null, CLIPTextModel? textEncoder = null)
        : base(unet, vae, scheduler, tokenizer, textEncoder)
    {
        ArgumentNullException.ThrowIfNull(controlnets);
        if (controlnets.Count == 0) throw new ArgumentException("at least one ControlNet is needed", nameof(controlnets));
        for (int k = 0; k < controlnets.Count; k++)
        {
            try { controlnets[k].RequireCompatible(unet); }
            catch (ArgumentException e) { throw new ArgumentException($"controlnet {k}: {e.Message}", nameof(controlnets), e); }
        }
        ControlNets = controlnets;
    }

    /// <summary>Loads unet/, vae/, scheduler/, tokenizer/ and text_encoder/ (where present) and the named ControlNet folders of a diffusers pipeline folder.</summary>
    /// <param name="directory">The folder with model_index.json.</param>
    /// <param name="controlnetComponents">The ControlNet subfolders, in order (default <c>controlnet</c>).</param>
    /// <param name="dtype">The models' dtype.</param>
    /// <param name="schedulerClassName">Another scheduler class on the folder's noise schedule; null for the folder's own.</param>
    /// <exception cref="FileNotFoundException">model_index.json or a component file is missing (the message names it).</exception>
    /// <exception cref="DirectoryNotFoundException">A component folder is missing (the message names it).</exception>
    public static StableDiffusionControlNetPipeline FromPretrained(string directory, IReadOnlyList<string>? controlnetComponents = null,
        ScalarType dtype = ScalarType.Float32, string? schedulerClassName = null)
    {
        var folder = DiffusersPipelineFolder.Open(directory);
        var controlnets = (controlnetComponents ?? ["controlnet"]).Select(c => folder.LoadControlNet(c, dtype)).ToArray();
        return Load(folder, dtype, schedulerClassName, (u, v, s, t, e) => new StableDiffusionControlNetPipeline(u, v, s, controlnets, t, e));
    }

    /// <summary>Loads the pipeline folder's own components with ControlNets loaded elsewhere (e.g. <c>sd-controlnet-canny</c>
    /// downloaded beside <c>stable-diffusion-v1-5</c>: <see cref="ControlNetModel.FromPretrained"/> of its folder).</summary>
    /// <param name="directory">The folder with model_index.json.</param>
    /// <param name="controlnets">The ControlNets, in the order their condition images will be given.</param>
    /// <param name="dtype">The models' dtype.</param>
    /// <param name="schedulerClassName">Another scheduler class on the folder's noise schedule; null for the folder's own.</param>
    /// <exception cref="FileNotFoundException">model_index.json or a component file is missing (the message names it).</exception>
    /// <exception cref="DirectoryNotFoundException">A component folder is missing (the message names it).</exception>
    /// <exception cref="ArgumentException">A ControlNet whose encoder does not match the UNet's (the message names the setting and both values).</exception>
    public static StableDiffusionControlNetPipeline FromPretrained(string directory, IReadOnlyList<ControlNetModel> controlnets,
        ScalarType dtype = ScalarType.Float32, string? schedulerClassName = null) =>
        Load(DiffusersPipelineFolder.Open(directory), dtype, schedulerClassName, (u, v, s, t, e) => new StableDiffusionControlNetPipeline(u, v, s, controlnets, t, e));

    /// <summary>Generates images from a prompt under the ControlNets (diffusers' <c>pipe(prompt, image, negative_prompt=…)</c>).</summary>
    /// <param name="prompt">The text; cut to the tokenizer's 77 tokens (the output's Warnings quote what was dropped).</param>
    /// <param name="negativePrompt">What guidance steers away from; null: the empty prompt.</param>
    /// <param name="controlImages">One condition image per ControlNet: (1, C, H, W) in [0, 1].</param>
    /// <param name="options">Steps, guidance, clip_skip, ControlNet scales and windows, guess mode, latents.</param>
    /// <param name="generator">Draws the latents (when not given) and any scheduler noise.</param>
    /// <param name="progress">Called after each denoising step.</param>
    /// <exception cref="InvalidOperationException">The pipeline has no tokenizer and text encoder.</exception>
    /// <exception cref="ArgumentException">Counts or shapes that do not fit (named), or control windows out of order.</exception>
    public StableDiffusionOutput Call(string prompt, string? negativePrompt, IReadOnlyList<Tensor> controlImages,
        StableDiffusionControlNetOptions? options = null, Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        options ??= new StableDiffusionControlNetOptions();
        return FromText(prompt, negativePrompt, options, (p, n) => Call(p, n, controlImages, options, generator, progress));
    }

    /// <summary>Generates images from prompt embeddings under the ControlNets.</summary>
    /// <param name="promptEmbeds">(B, M, cross_attention_dim).</param>
    /// <param name="negativePromptEmbeds">(B, M, cross_attention_dim); needed when guidance_scale &gt; 1.</param>
    /// <param name="controlImages">One condition image per ControlNet: (b, C, H, W) in [0, 1], b = 1 or B.</param>
    /// <param name="options">Steps, guidance, ControlNet scales and windows, guess mode, latents.</param>
    /// <param name="generator">Draws the latents (when not given) and any scheduler noise.</param>
    /// <param name="progress">Called after each denoising step.</param>
    /// <returns>B·n images (B, 3, H, W) in [0, 1] and the final latents.</returns>
    /// <exception cref="ArgumentException">Counts or shapes that do not fit (named), or control windows out of order.</exception>
    public StableDiffusionOutput Call(Tensor promptEmbeds, Tensor? negativePromptEmbeds, IReadOnlyList<Tensor> controlImages,
        StableDiffusionControlNetOptions? options = null, Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(controlImages);
        options ??= new StableDiffusionControlNetOptions();
        Begin(options);
        if (controlImages.Count != ControlNets.Count)
            throw new ArgumentException($"{controlImages.Count} control images for {ControlNets.Count} ControlNets", nameof(controlImages));
        var schedules = ControlSchedule.ForEach(ControlNets.Count, options.ControlGuidanceStart, options.ControlGuidanceEnd);
        using var scope = torch.NewDisposeScope();
        var text = Text(promptEmbeds, negativePromptEmbeds, options);
        long batch = text.PromptEmbeds.shape[0];

        // 1. Condition images at the requested size (no normalisation: ControlNets take [0, 1]), repeated to the batch;
        //    the image size is theirs.
        var images = controlImages
            .Select((im, k) => ControlNetGuidance.PrepareImage(Preprocess(im, normalize: false, options.Height, options.Width, $"controlImages[{k}]"),
                batch, options.NumImagesPerPrompt, $"controlImages[{k}]"))
            .ToArray();
        var (height, width) = Size((int)images[0].shape[2], (int)images[0].shape[3], 0, 0);
        // guess_mode is forced by ControlNets trained with global pooling (unsupported by ControlNetModel, which rejects them).
        var control = new ControlNetGuidance(ControlNets, images, options.ConditioningScales, schedules, options.GuessMode);

        // 2. Timesteps and starting latents; 3. denoise; 4. decode.
        Scheduler.SetTimesteps(options.NumInferenceSteps);
        var latents = InitialLatents(batch, height, width, options.Latents, generator);
        var final = DenoisingLoop.Run(Unet, Scheduler, latents, Scheduler.Timesteps, text, control, generator, progress);
        return Escape(Finish(final, options));
    }
}
