using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Training;

/// <summary>Options of a <see cref="DiffusionTrainer"/> run. Stored in each checkpoint's trainer_state.json.</summary>
/// <param name="BatchSize">Images per step.</param>
/// <param name="LearningRate">AdamW's peak learning rate, reached after <paramref name="WarmupSteps"/>.</param>
/// <param name="WarmupSteps">Linear learning-rate warm-up from lr / WarmupSteps to lr (0: none).</param>
/// <param name="WeightDecay">AdamW's decoupled weight decay.</param>
/// <param name="EmaDecay">Largest decay of the weight EMA; the decay used at step n is min(EmaDecay, (1 + n) / (10 + n)) (diffusers' EMAModel warm-up).</param>
/// <param name="LabelDropout">Probability of replacing a class label with the null class (classifier-free guidance training); class-conditional models only.</param>
/// <param name="GradientClip">Gradient norm clipping (0: none).</param>
/// <param name="Seed">Seeds the initial weights, the data order, the timesteps, the noise and the label dropout.</param>
/// <param name="CheckpointEvery">Steps between checkpoints (0: only at the end).</param>
/// <param name="KeepCheckpoints">Complete checkpoints kept on disk (older ones are deleted).</param>
/// <param name="SampleEvery">Steps between sample grids from the EMA weights (0: never).</param>
/// <param name="SampleCount">Images in each sample grid.</param>
/// <param name="SampleSteps">DDIM steps of each sample grid.</param>
public sealed record DiffusionTrainingOptions(
    int BatchSize = 64,
    double LearningRate = 2e-4,
    int WarmupSteps = 200,
    double WeightDecay = 1e-2,
    double EmaDecay = 0.999,
    double LabelDropout = 0.1,
    double GradientClip = 1.0,
    long Seed = 0,
    int CheckpointEvery = 500,
    int KeepCheckpoints = 2,
    int SampleEvery = 0,
    int SampleCount = 20,
    int SampleSteps = 50);

/// <summary>Reported after each training step.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="Steps">Steps the run ends at.</param>
/// <param name="Loss">This step's loss (mean squared error against the objective's target).</param>
/// <param name="LearningRate">The learning rate used for this step.</param>
/// <param name="Images">Images this run has processed (since start or resume).</param>
public readonly record struct DiffusionTrainingProgress(long Step, long Steps, double Loss, double LearningRate, long Images);

/// <summary>What the model learns to predict, as a scheduler's prediction_type.</summary>
public static class DiffusionObjective
{
    /// <summary>Parses "epsilon", "v_prediction" (or "v") and "sample".</summary>
    /// <exception cref="ArgumentException">Any other name (the message lists the allowed ones).</exception>
    public static PredictionType Parse(string name) => name switch
    {
        "epsilon" or "eps" => PredictionType.Epsilon,
        "v_prediction" or "v" => PredictionType.VPrediction,
        "sample" => PredictionType.Sample,
        _ => throw new ArgumentException($"objective must be epsilon, v_prediction or sample; got '{name}'", nameof(name)),
    };
}
