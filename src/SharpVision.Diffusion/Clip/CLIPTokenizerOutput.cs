namespace SharpVision.Diffusion.Clip;

/// <summary>A batch of prompts tokenized to one length, as tensors for <see cref="CLIPTextModel"/>.</summary>
/// <param name="InputIds">(B, L) int64 token ids.</param>
/// <param name="AttentionMask">(B, L) int64, 1 for real tokens and 0 for padding.</param>
/// <param name="Encodings">Each prompt's <see cref="CLIPEncoding"/> (truncation report included).</param>
public sealed record CLIPTokenizerOutput(Tensor InputIds, Tensor AttentionMask, IReadOnlyList<CLIPEncoding> Encodings) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
    }
}
