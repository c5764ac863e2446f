using SharpVision.Diffusion.Clip;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// Prompts encoded as diffusers v0.33.1 <c>StableDiffusionPipeline.encode_prompt</c> encodes them, one row per prompt
/// (the pipeline repeats rows per image).
/// </summary>
/// <param name="PromptEmbeds">(B, 77, D) the text encoder's states of the prompts (clip_skip applied).</param>
/// <param name="NegativePromptEmbeds">(B, 77, D) the negative prompts' states (the empty prompt's when none); null without guidance.</param>
/// <param name="InputIds">(B, 77) int64 the prompts' token ids.</param>
/// <param name="NegativeInputIds">(B, 77) int64 the negative prompts' token ids; null without guidance.</param>
/// <param name="Warnings">diffusers' truncation warning per prompt longer than the tokenizer's length, quoting the dropped text.</param>
public sealed record PromptEmbeddings(Tensor PromptEmbeds, Tensor? NegativePromptEmbeds, Tensor InputIds, Tensor? NegativeInputIds,
    IReadOnlyList<string> Warnings)
{
    /// <summary>diffusers' warning for a prompt cut to <paramref name="maxLength"/> tokens, quoting the dropped text.</summary>
    public static string TruncationWarning(int maxLength, CLIPEncoding encoding) =>
        $"The following part of your input was truncated because CLIP can only handle sequences up to {maxLength} tokens: {encoding.TruncatedText}";
}
