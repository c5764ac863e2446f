using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Training;

/// <summary>
/// What the diffusion trainers share per step. The random draws of diffusion training step n, all from generators seeded by (seed, n) so a resumed run repeats the
/// uninterrupted one: the batch (slice n mod steps-per-epoch of the epoch's permutation), timesteps and noise.
/// </summary>
internal static class DiffusionStep
{
    /// <param name="count">Training images N.</param>
    /// <param name="step">0-based step index n.</param>
    /// <param name="generator">The step's generator after the timesteps and noise, for further draws (label dropout); the caller disposes it.</param>
    /// <returns>Index (B) into the images, timesteps (B) in [0, numTrainTimesteps) and noise shaped like <paramref name="x0Shape"/>'s batch.</returns>
    public static (Tensor Index, Tensor Timesteps, Tensor Noise) Draw(long count, int batch, long seed, long step, int numTrainTimesteps,
        long[] x0Shape, ScalarType dtype, out Generator generator)
    {
        var index = SeedMixer.BatchIndices(count, batch, seed, step); // (B)
        generator = new Generator(SeedMixer.Mix(seed, 2, step));
        var t = torch.randint(0, numTrainTimesteps, [batch], dtype: ScalarType.Int64, generator: generator); // (B)
        var noise = torch.randn(x0Shape, dtype: dtype, generator: generator);
        // dropout layers, if the config has any, draw from the global generator
        torch.manual_seed((long)(SeedMixer.Mix(seed, 3, step) >> 1));
        return (index, t, noise);
    }

    /// <summary>The regression target of the scheduler's prediction type: the noise, v, or x_0.</summary>
    public static Tensor Target(DDPMScheduler scheduler, Tensor x0, Tensor noise, Tensor t) => scheduler.Config.PredictionType switch
    {
        PredictionType.Epsilon => noise,
        PredictionType.VPrediction => scheduler.GetVelocity(x0, noise, t),
        _ => x0,
    };

    /// <summary>MSE in float32; a NaN or infinite value stops the run before any weight changes.</summary>
    /// <exception cref="TrainingDivergedException">The loss is not finite.</exception>
    public static Tensor Loss(Tensor prediction, Tensor target, long step, string? lastCheckpoint)
    {
        var loss = nn.functional.mse_loss(prediction.to(ScalarType.Float32), target.to(ScalarType.Float32));
        TrainingDivergedException.ThrowIfNotFinite(loss.item<float>(), step, lastCheckpoint);
        return loss;
    }

    /// <summary>Backpropagates <paramref name="loss"/> and takes one optimizer step at <paramref name="learningRate"/>, clipping the
    /// gradient norm of <paramref name="parameters"/> to <paramref name="clip"/> when positive.</summary>
    public static void Apply(optim.Optimizer optimizer, Tensor loss, IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate, double clip)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
        optimizer.zero_grad();
        loss.backward();
        if (clip > 0) nn.utils.clip_grad_norm_(parameters, clip);
        optimizer.step();
    }

    /// <summary>
    /// Runs <paramref name="trainStep"/> until <paramref name="untilStep"/>, reporting progress and saving a checkpoint every
    /// <paramref name="checkpointEvery"/> steps and at the end when <paramref name="checkpointRoot"/> is given; then
    /// <paramref name="afterStep"/> (e.g. sample grids).
    /// </summary>
    public static void Loop(Func<long> currentStep, long untilStep, int batchSize, Func<double> trainStep, Func<long, double> learningRateAt,
        int checkpointEvery, string? checkpointRoot, Func<string, string> saveCheckpoint, Action<DiffusionTrainingProgress>? progress,
        CancellationToken cancel, Action<long>? afterStep = null)
    {
        long processed = 0;
        while (currentStep() < untilStep)
        {
            cancel.ThrowIfCancellationRequested();
            double loss = trainStep();
            long step = currentStep();
            processed += batchSize;
            progress?.Invoke(new DiffusionTrainingProgress(step, untilStep, loss, learningRateAt(step), processed));
            if (checkpointRoot is not null && ((checkpointEvery > 0 && step % checkpointEvery == 0) || step == untilStep))
                saveCheckpoint(checkpointRoot);
            afterStep?.Invoke(step);
        }
    }

    /// <summary>The random-draw scheme recorded in checkpoints.</summary>
    public const string RngScheme = "counter-based: step n draws from torch.Generator seeds derived from (seed, n) by SplitMix64; no state beyond the step";

    /// <summary>Writes <paramref name="config"/> as <c>scheduler_config.json</c> in the folder <paramref name="directory"/>.</summary>
    public static void SaveSchedulerFolder(DDPMSchedulerConfig config, string directory)
    {
        Directory.CreateDirectory(directory);
        config.Save(Path.Combine(directory, SchedulerConfigJson.FileName));
    }
}
