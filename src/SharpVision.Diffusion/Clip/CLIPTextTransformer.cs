using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// CLIP's text tower (transformers models/clip/modeling_clip.py <c>CLIPTextTransformer</c>): embeddings → causal
/// encoder → <c>final_layer_norm</c>; pooled output at the end-of-text token.
/// </summary>
public sealed class CLIPTextTransformer : nn.Module<Tensor, Tensor?, CLIPTextModelOutput>
{
    public readonly CLIPTextEmbeddings embeddings;
    public readonly CLIPEncoder encoder;
    public readonly LayerNorm final_layer_norm;

    readonly long eos_token_id;

    /// <exception cref="ArgumentException">Inconsistent config (sizes below 1, hidden size not divisible by heads).</exception>
    public CLIPTextTransformer(CLIPTextConfig config) : base(nameof(CLIPTextTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate(nameof(config));
        embeddings = new CLIPTextEmbeddings(config.VocabSize, config.HiddenSize, config.MaxPositionEmbeddings);
        encoder = new CLIPEncoder(config);
        final_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        eos_token_id = config.EosTokenId;
        RegisterComponents();
    }

    /// <param name="inputIds">(B, L) int64 token ids.</param>
    /// <param name="attentionMask">(B, L) padding mask (1 or true: attend), combined with the causal mask; null: causal only (Stable Diffusion's use).</param>
    /// <exception cref="ArgumentException">inputIds is not (B, L) within the position range, or the mask's shape differs.</exception>
    public override CLIPTextModelOutput forward(Tensor inputIds, Tensor? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"attentionMask must be {Shapes.Format(inputIds)} like inputIds; got {Shapes.Format(attentionMask)}", nameof(attentionMask));
        using var scope = torch.NewDisposeScope();
        var mask = attentionMask is null ? null : CausalPaddingMask(attentionMask);
        var hiddenStates = encoder.call(embeddings.call(inputIds), mask);
        var last = final_layer_norm.call(hiddenStates[^1]); // (B, L, D)
        var pooled = Pool(last, inputIds);
        foreach (var h in hiddenStates) h.MoveToOuterDisposeScope();
        return new CLIPTextModelOutput(last.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope(), hiddenStates);
    }

    /// <summary>
    /// Prompt embeddings as diffusers' <c>encode_prompt</c> makes them: with no clip_skip the last hidden state; else
    /// final_layer_norm(hidden_states[−(clip_skip + 1)]), the output of the layer clip_skip layers before the last.
    /// </summary>
    /// <param name="inputIds">(B, L) int64 token ids.</param>
    /// <param name="clipSkip">Layers to skip from the end, 0 ≤ clipSkip ≤ num_hidden_layers − 1; null or 0: none.</param>
    /// <returns>(B, L, D).</returns>
    /// <exception cref="ArgumentOutOfRangeException">clipSkip is negative or not below the layer count.</exception>
    public Tensor EncodePrompt(Tensor inputIds, int? clipSkip = null, Tensor? attentionMask = null)
    {
        int skip = clipSkip ?? 0;
        ArgumentOutOfRangeException.ThrowIfNegative(skip, nameof(clipSkip));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(skip, encoder.layers.Count, nameof(clipSkip));
        using var scope = torch.NewDisposeScope();
        var output = call(inputIds, attentionMask);
        var embeds = skip == 0 ? output.LastHiddenState : final_layer_norm.call(output.HiddenStates[^(skip + 1)]);
        return embeds.MoveToOuterDisposeScope();
    }

    // transformers' rule: configs with the legacy eos_token_id 2 pool at the largest id (CLIP's end-of-text token has the
    // largest id of its vocabulary); otherwise at the first position holding eos_token_id.
    Tensor Pool(Tensor lastHiddenState, Tensor inputIds)
    {
        var positions = eos_token_id == 2
            ? inputIds.argmax(-1)
            : inputIds.eq(eos_token_id).to(ScalarType.Int32).argmax(-1); // (B,)
        long b = lastHiddenState.shape[0], d = lastHiddenState.shape[2];
        var index = positions.view(b, 1, 1).expand(b, 1, d); // (B, 1, D)
        return lastHiddenState.gather(1, index).squeeze(1); // (B, D)
    }

    // (B, L) padding mask → (B, 1, L, L) bool: query i may attend key j when j ≤ i and key j is not padding.
    static Tensor CausalPaddingMask(Tensor attentionMask)
    {
        long b = attentionMask.shape[0], l = attentionMask.shape[1];
        var causal = torch.ones(l, l, ScalarType.Bool, attentionMask.device).tril(); // (L, L)
        var keys = attentionMask.to(ScalarType.Bool).view(b, 1, 1, l); // (B, 1, 1, L)
        return causal.unsqueeze(0).unsqueeze(0).logical_and(keys); // (B, 1, L, L)
    }
}
