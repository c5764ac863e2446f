namespace SharpVision.Diffusion.Clip;

/// <summary>
/// CLIP's text encoder without projection head (transformers models/clip/modeling_clip.py <c>CLIPTextModel</c>),
/// Stable Diffusion 1.x/2.x's <c>text_encoder</c>. state_dict keys are transformers' (<c>text_model.…</c>).
/// </summary>
public sealed class CLIPTextModel : nn.Module<Tensor, Tensor?, CLIPTextModelOutput>
{
    /// <summary>File names of a transformers model folder (weights: the first that exists).</summary>
    public const string ConfigFileName = "config.json", SafetensorsFileName = CLIPPretrained.SafetensorsFileName,
        PyTorchFileName = CLIPPretrained.PyTorchFileName;

    public readonly CLIPTextTransformer text_model;

    /// <summary>The configuration this model was built from.</summary>
    public CLIPTextConfig Config { get; }

    /// <summary>Builds a freshly initialised model (training mode, float32).</summary>
    /// <exception cref="ArgumentException">Inconsistent config.</exception>
    public CLIPTextModel(CLIPTextConfig config) : base(nameof(CLIPTextModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        text_model = new CLIPTextTransformer(config);
        RegisterComponents();
    }

    /// <summary>Causal forward without padding mask, as Stable Diffusion runs it.</summary>
    /// <param name="inputIds">(B, L) int64 token ids.</param>
    public CLIPTextModelOutput forward(Tensor inputIds) => forward(inputIds, null);

    /// <param name="inputIds">(B, L) int64 token ids.</param>
    /// <param name="attentionMask">(B, L) padding mask, or null (see <see cref="CLIPTextTransformer.forward"/>).</param>
    public override CLIPTextModelOutput forward(Tensor inputIds, Tensor? attentionMask) => text_model.call(inputIds, attentionMask);

    /// <summary>Prompt embeddings with diffusers' clip_skip (see <see cref="CLIPTextTransformer.EncodePrompt"/>).</summary>
    /// <param name="inputIds">(B, L) int64 token ids.</param>
    /// <returns>(B, L, hidden_size).</returns>
    public Tensor EncodePrompt(Tensor inputIds, int? clipSkip = null, Tensor? attentionMask = null) =>
        text_model.EncodePrompt(inputIds, clipSkip, attentionMask);

    /// <summary>
    /// Loads a transformers folder (config.json, model.safetensors or pytorch_model.bin) strictly; returns the model in
    /// eval mode. Accepted beyond the model's keys: <c>text_model.embeddings.position_ids</c> (older checkpoints) and the
    /// <c>text_projection.weight</c> of a <see cref="CLIPTextModelWithProjection"/> checkpoint, which transformers drops too.
    /// </summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="dtype">Float32 (default) or Float64; weights are converted.</param>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The config cannot be parsed or is not a text config.</exception>
    /// <exception cref="SharpVision.Nn.Checkpoints.CheckpointMismatchException">The weights do not match the config.</exception>
    public static CLIPTextModel FromPretrained(string directory, ScalarType dtype = ScalarType.Float32) =>
        CLIPPretrained.Load(directory, dtype, nameof(CLIPTextModel), c => new CLIPTextModel(c), "text_projection.weight");
}
