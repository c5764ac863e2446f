using SharpVision.Diffusion.ControlNet;

namespace SharpVision.Diffusion.Training;

/// <summary>Options of a <see cref="ControlNetTrainer"/> run. Stored in each checkpoint's trainer_state.json.</summary>
/// <param name="BatchSize">Images per step.</param>
/// <param name="LearningRate">AdamW's peak learning rate, reached after <paramref name="WarmupSteps"/>.</param>
/// <param name="WarmupSteps">Linear learning-rate warm-up (0: none).</param>
/// <param name="WeightDecay">AdamW's decoupled weight decay.</param>
/// <param name="GradientClip">Gradient norm clipping (0: none).</param>
/// <param name="Seed">Seeds the conditioning embedding's initial weights, the data order, the timesteps and the noise.</param>
/// <param name="CheckpointEvery">Steps between checkpoints (0: only at the end).</param>
/// <param name="KeepCheckpoints">Complete checkpoints kept on disk.</param>
/// <param name="EdgeThreshold">Sobel threshold of the edge-map condition (<see cref="EdgeMaps.DefaultThreshold"/>).</param>
/// <param name="ConditioningStages">Stage widths of the conditioning embedding; one stage (the default, [16]) takes the condition
/// at the sample's size, n stages at 2^(n−1) times it.</param>
public sealed record ControlNetTrainingOptions(
    int BatchSize = 64,
    double LearningRate = 1e-4,
    int WarmupSteps = 100,
    double WeightDecay = 1e-2,
    double GradientClip = 1.0,
    long Seed = 0,
    int CheckpointEvery = 500,
    int KeepCheckpoints = 2,
    double EdgeThreshold = EdgeMaps.DefaultThreshold,
    int[]? ConditioningStages = null)
{
    /// <summary>The conditioning embedding's stage widths (default [16]).</summary>
    public IReadOnlyList<int> Stages => ConditioningStages ?? [16];
}
