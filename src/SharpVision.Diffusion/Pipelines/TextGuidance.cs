using SharpVision.Nn;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// The text conditioning of a Stable Diffusion UNet and its classifier-free guidance (Ho and Salimans 2022,
/// https://arxiv.org/abs/2207.12598): <c>eps = eps(x, neg) + s (eps(x, text) - eps(x, neg))</c>, both halves in one
/// batch, negative half first, as diffusers' StableDiffusionPipeline (v0.33.1) does.
/// </summary>
/// <remarks>Guidance runs when <see cref="GuidanceScale"/> &gt; 1 (diffusers' <c>do_classifier_free_guidance</c>).</remarks>
public sealed record TextGuidance
{
    /// <summary>(B, M, D) the prompt's text-encoder states, one row per image (already repeated per prompt).</summary>
    public Tensor PromptEmbeds { get; }

    /// <summary>(B, M, D) the negative prompt's states (the empty prompt's when there is none); null without guidance.</summary>
    public Tensor? NegativePromptEmbeds { get; }

    /// <summary>s; guidance runs when it is above 1.</summary>
    public double GuidanceScale { get; }

    /// <summary>Whether the UNet runs on both halves and the halves are combined.</summary>
    public bool Guided => GuidanceScale > 1.0;

    /// <param name="promptEmbeds">(B, M, D).</param>
    /// <param name="negativePromptEmbeds">(B, M, D), needed when <paramref name="guidanceScale"/> &gt; 1.</param>
    /// <param name="guidanceScale">s.</param>
    /// <exception cref="ArgumentException">Embeddings not (B, M, D), negative embeddings missing under guidance or of another shape.</exception>
    public TextGuidance(Tensor promptEmbeds, Tensor? negativePromptEmbeds, double guidanceScale)
    {
        ArgumentNullException.ThrowIfNull(promptEmbeds);
        if (promptEmbeds.dim() != 3)
            throw new ArgumentException($"promptEmbeds must be (B, M, D); got {Shapes.Format(promptEmbeds)}", nameof(promptEmbeds));
        if (double.IsNaN(guidanceScale)) throw new ArgumentOutOfRangeException(nameof(guidanceScale), guidanceScale, "guidance scale is NaN");
        if (guidanceScale > 1.0)
        {
            if (negativePromptEmbeds is null)
                throw new ArgumentException($"guidance scale {guidanceScale} > 1 needs negativePromptEmbeds (the empty prompt's embedding when there is no negative prompt)",
                    nameof(negativePromptEmbeds));
            if (!negativePromptEmbeds.shape.SequenceEqual(promptEmbeds.shape))
                throw new ArgumentException($"negativePromptEmbeds must be {Shapes.Format(promptEmbeds)} like promptEmbeds; got {Shapes.Format(negativePromptEmbeds)}",
                    nameof(negativePromptEmbeds));
        }
        PromptEmbeds = promptEmbeds;
        NegativePromptEmbeds = guidanceScale > 1.0 ? negativePromptEmbeds : null;
        GuidanceScale = guidanceScale;
    }

    /// <summary>
    /// The embeddings for <paramref name="numImagesPerPrompt"/> images per prompt: each prompt's row repeated in place,
    /// as diffusers' <c>encode_prompt</c> does (<c>repeat(1, n, 1).view(B·n, M, D)</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">numImagesPerPrompt &lt; 1.</exception>
    public TextGuidance PerImage(int numImagesPerPrompt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numImagesPerPrompt);
        if (numImagesPerPrompt == 1) return this;
        return new TextGuidance(PromptEmbeds.repeat_interleave(numImagesPerPrompt, 0),
            NegativePromptEmbeds?.repeat_interleave(numImagesPerPrompt, 0), GuidanceScale);
    }

    /// <summary>The UNet's encoder states: (2B, M, D) negative then prompt under guidance, else (B, M, D).</summary>
    public Tensor EncoderHiddenStates() => Guided ? torch.cat([NegativePromptEmbeds!, PromptEmbeds]) : PromptEmbeds.alias();

    /// <summary>The UNet's input batch: the latents twice under guidance (B → 2B), else the latents.</summary>
    /// <param name="latents">(B, C, h, w).</param>
    public Tensor ModelInput(Tensor latents) => Guided ? torch.cat([latents, latents]) : latents.alias();

    /// <summary>Combines the UNet's output halves: <c>uncond + s (text - uncond)</c>; the output itself without guidance.</summary>
    /// <param name="noisePred">(2B, C, h, w) under guidance, else (B, C, h, w).</param>
    /// <returns>(B, C, h, w).</returns>
    public Tensor Combine(Tensor noisePred)
    {
        if (!Guided) return noisePred;
        var halves = noisePred.chunk(2); // 2 × (B, C, h, w): negative, then text
        return halves[0] + GuidanceScale * (halves[1] - halves[0]);
    }
}
