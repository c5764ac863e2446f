namespace SharpVision.Diffusion.Clip;

/// <summary>
/// One prompt as a Stable Diffusion pipeline feeds it to the text encoder (transformers' <c>tokenizer(prompt,
/// padding="max_length", max_length=77, truncation=True)</c>), plus what truncation dropped.
/// </summary>
/// <param name="InputIds">bos, the BPE ids cut to max_length − 2, eos, then pad ids up to max_length.</param>
/// <param name="AttentionMask">1 for bos, BPE ids and eos; 0 for padding.</param>
/// <param name="TruncatedIds">The BPE ids cut off (empty when the prompt fit).</param>
/// <param name="TruncatedText">Those ids decoded, as diffusers prints them in its truncation warning ("" when none).</param>
public sealed record CLIPEncoding(IReadOnlyList<int> InputIds, IReadOnlyList<int> AttentionMask, IReadOnlyList<int> TruncatedIds, string TruncatedText)
{
    /// <summary>Whether part of the prompt did not fit.</summary>
    public bool WasTruncated => TruncatedIds.Count > 0;
}
