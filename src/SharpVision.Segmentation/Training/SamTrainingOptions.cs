using System.Text.Json.Serialization;

namespace SharpVision.Segmentation.Training;

/// <summary>Hyperparameters of <see cref="SamTrainer"/>; saved with every checkpoint.</summary>
public sealed record SamTrainingOptions
{
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
