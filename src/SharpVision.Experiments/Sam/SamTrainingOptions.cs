using System.Text.Json.Serialization;
using SharpVision.Segmentation.Sam;

namespace SharpVision.Experiments.Sam;

/// <summary>Hyperparameters of <see cref="SamTrainer"/>; saved with every checkpoint.</summary>
public sealed record SamTrainingOptions
{
    /// <summary>
    /// The model the Fashion-MNIST scenes recipe trains unless given a config (<c>sam train</c>, the tour's SAM section):
    /// small enough to train on two CPU cores: 64×64 input, 8×8 patches (an 8×8 embedding grid), a 2-block ViT of width 64
    /// (4 heads, windows of 4, block 1 global), prompt/decoder width 64.
    /// </summary>
    public static SamConfig DefaultModel { get; } = new()
    {
        ImageSize = 64, PatchSize = 8, EncoderEmbedDim = 64, EncoderDepth = 2, EncoderNumHeads = 4, EncoderGlobalAttnIndexes = [1],
        WindowSize = 4, PromptEmbedDim = 64, MaskInChans = 16, DecoderMlpDim = 256, DecoderNumHeads = 4, IouHeadHiddenDim = 64,
    };

    /// <summary>Scenes per optimiser step (each contributes one prompt per object).</summary>
    [JsonPropertyName("batch_scenes")] public int BatchScenes { get; init; } = 4;
    /// <summary>Peak AdamW learning rate.</summary>
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; } = 1e-3;
    /// <summary>AdamW decoupled weight decay.</summary>
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; } = 0.01;
    /// <summary>Steps of linear learning-rate warm-up (SAM warms up too).</summary>
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; } = 50;
    /// <summary>Probability that a scene's first prompt is a point rather than a box (the paper picks either with equal probability).</summary>
    [JsonPropertyName("point_probability")] public double PointProbability { get; init; } = 0.5;
    /// <summary>Correction rounds after the first prompt: each adds a click from the error region and feeds back the previous logits as mask input.</summary>
    [JsonPropertyName("correction_rounds")] public int CorrectionRounds { get; init; } = 1;
    /// <summary>Train the IoU head on all three multimask outputs rather than only the lowest-loss one (SAM 2's <c>supervise_all_iou</c>).</summary>
    [JsonPropertyName("supervise_all_iou")] public bool SuperviseAllIou { get; init; } = true;
    /// <summary>Weight of the IoU mean-squared error next to 20·focal + dice.</summary>
    [JsonPropertyName("iou_loss_weight")] public double IouLossWeight { get; init; } = 1.0;
    /// <summary>Freeze the image and prompt encoders and train only the mask decoder.</summary>
    [JsonPropertyName("decoder_only")] public bool DecoderOnly { get; init; }
    /// <summary>Seed of the prompt draws.</summary>
    [JsonPropertyName("seed")] public int Seed { get; init; }

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (BatchScenes < 1) throw new ArgumentException($"BatchScenes must be >= 1; got {BatchScenes}", nameof(BatchScenes));
        if (!(LearningRate > 0)) throw new ArgumentException($"LearningRate must be > 0; got {LearningRate}", nameof(LearningRate));
        if (WarmupSteps < 0) throw new ArgumentException($"WarmupSteps must be >= 0; got {WarmupSteps}", nameof(WarmupSteps));
        if (PointProbability is < 0 or > 1) throw new ArgumentException($"PointProbability must be in [0, 1]; got {PointProbability}", nameof(PointProbability));
        if (CorrectionRounds < 0) throw new ArgumentException($"CorrectionRounds must be >= 0; got {CorrectionRounds}", nameof(CorrectionRounds));
    }
}
