using TorchSharp.Modules;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// CLIP's text encoder with its projection head (transformers models/clip/modeling_clip.py
/// <c>CLIPTextModelWithProjection</c>), SDXL's <c>text_encoder_2</c>: <see cref="CLIPTextModel"/>'s outputs plus
/// text_embeds = text_projection(pooler_output), a bias-free Linear.
/// </summary>
public sealed class CLIPTextModelWithProjection : nn.Module<Tensor, Tensor?, CLIPTextModelOutput>
{
    public readonly CLIPTextTransformer text_model;
    public readonly Linear text_projection;

    /// <summary>The configuration this model was built from.</summary>
    public CLIPTextConfig Config { get; }

    /// <summary>Builds a freshly initialised model (training mode, float32).</summary>
    /// <exception cref="ArgumentException">Inconsistent config.</exception>
    public CLIPTextModelWithProjection(CLIPTextConfig config) : base(nameof(CLIPTextModelWithProjection))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        text_model = new CLIPTextTransformer(config);
        text_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Causal forward without padding mask, as Stable Diffusion runs it.</summary>
    /// <param name="inputIds">(B, L) int64 token ids.</param>
    public CLIPTextModelOutput forward(Tensor inputIds) => forward(inputIds, null);

    /// <param name="inputIds">(B, L) int64 token ids.</param>
    /// <param name="attentionMask">(B, L) padding mask, or null (see <see cref="CLIPTextTransformer.forward"/>).</param>
    /// <returns>The text model's outputs with TextEmbeds (B, projection_dim).</returns>
    public override CLIPTextModelOutput forward(Tensor inputIds, Tensor? attentionMask)
    {
        var output = text_model.call(inputIds, attentionMask);
        return output with { TextEmbeds = text_projection.call(output.PoolerOutput) };
    }

    /// <summary>Prompt embeddings with diffusers' clip_skip (see <see cref="CLIPTextTransformer.EncodePrompt"/>).</summary>
    /// <param name="inputIds">(B, L) int64 token ids.</param>
    /// <returns>(B, L, hidden_size).</returns>
    public Tensor EncodePrompt(Tensor inputIds, int? clipSkip = null, Tensor? attentionMask = null) =>
        text_model.EncodePrompt(inputIds, clipSkip, attentionMask);

    /// <summary>
    /// Loads a transformers folder (config.json, model.safetensors or pytorch_model.bin) strictly, accepting the
    /// <c>text_model.embeddings.position_ids</c> buffer older checkpoints carry; returns the model in eval mode.
    /// </summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="dtype">Float32 (default) or Float64; weights are converted.</param>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The config cannot be parsed or is not a text config.</exception>
    /// <exception cref="SharpVision.Nn.Checkpoints.CheckpointMismatchException">The weights do not match the config.</exception>
    public static CLIPTextModelWithProjection FromPretrained(string directory, ScalarType dtype = ScalarType.Float32) =>
        CLIPPretrained.Load(directory, dtype, nameof(CLIPTextModelWithProjection), c => new CLIPTextModelWithProjection(c));
}
