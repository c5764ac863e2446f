namespace SharpVision.Diffusion.Clip;

/// <summary>
/// What CLIP's text model returns (transformers' <c>BaseModelOutputWithPooling</c>, and <c>CLIPTextModelOutput</c>'s
/// text_embeds for <see cref="CLIPTextModelWithProjection"/>).
/// </summary>
/// <param name="LastHiddenState">(B, L, D): final_layer_norm of the last layer's output; Stable Diffusion's prompt embeddings.</param>
/// <param name="PoolerOutput">(B, D): LastHiddenState at each sequence's end-of-text token.</param>
/// <param name="HiddenStates">num_hidden_layers + 1 tensors (B, L, D): the embedding output, then each layer's output (before the final norm).</param>
/// <param name="TextEmbeds">(B, projection_dim): text_projection(PoolerOutput); null for <see cref="CLIPTextModel"/>.</param>
public sealed record CLIPTextModelOutput(Tensor LastHiddenState, Tensor PoolerOutput, IReadOnlyList<Tensor> HiddenStates, Tensor? TextEmbeds = null);
