using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Training;
using SharpVision.Segmentation.Sam;
using SharpVision.Segmentation.Training;
using static TorchSharp.torch;

namespace SharpVision.Experiments.Sam;

/// <summary>The loss of one batch and its parts (means over scenes, objects and rounds).</summary>
public sealed record SamLossResult(Tensor Loss, double MaskLoss, double IouLoss, double FirstRoundIou, int Objects) : IDisposable
{
    /// <summary>Frees the loss tensor.</summary>
    public void Dispose() => Loss.Dispose();
}

/// <summary>What one optimiser step did.</summary>
public sealed record SamStepResult(long Step, double Loss, double MaskLoss, double IouLoss, double FirstRoundIou, int Objects, double LearningRate);

/// <summary>Where a training checkpoint's files are, as recorded in its <c>trainer_state.json</c>.</summary>
public sealed record SamTrainState
{
    /// <summary>Optimiser steps taken.</summary>
    [JsonPropertyName("step")] public long Step { get; init; }
    /// <summary>The model state_dict file (torch.save zip, official key names), relative to the checkpoint folder.</summary>
    [JsonPropertyName("model_file")] public string ModelFile { get; init; } = "";
    /// <summary>The optimiser state file (TorchSharp's <c>save_state_dict</c> format), relative to the checkpoint folder.</summary>
    [JsonPropertyName("optimizer_file")] public string OptimizerFile { get; init; } = "";
    /// <summary>Model sizes.</summary>
    [JsonPropertyName("sam_config")] public JsonElement SamConfig { get; init; }
    /// <summary>Training hyperparameters.</summary>
    [JsonPropertyName("training")] public SamTrainingOptions Training { get; init; } = new();
    /// <summary>The training scene stream.</summary>
    [JsonPropertyName("scenes")] public SceneOptions Scenes { get; init; } = new();
}

/// <summary>
/// Trains a SAM model on <see cref="FashionMnistScenes"/> with the recipe of the SAM paper (appendix A):
/// a first prompt per object (a point with multimask output, or a noisy box with a single mask), then
/// correction rounds that add a click from the error region and feed back the previous mask logits;
/// loss 20·focal + dice on the masks plus the MSE of the IoU head, where only the lowest-loss mask of a
/// multimask output is backpropagated. With <see cref="SamTrainingOptions.DecoderOnly"/> the image and
/// prompt encoders are frozen.
/// </summary>
public sealed class SamTrainer : IDisposable
{
    /// <summary>Names inside a checkpoint folder (beside <see cref="CheckpointFolders.StateFile"/>).</summary>
    public const string ModelFile = "sam.pth", OptimizerFile = CheckpointFolders.OptimizerFile, ConfigFile = "sam_config.json";

    /// <summary>Complete checkpoints kept on disk.</summary>
    public const int KeepCheckpoints = 2;

    readonly TorchSharp.Modules.AdamW optimizer;

    /// <summary>The model being trained.</summary>
    public SamModel Model { get; }
    /// <summary>The training scenes.</summary>
    public FashionMnistScenes Scenes { get; }
    /// <summary>Hyperparameters.</summary>
    public SamTrainingOptions Options { get; }
    /// <summary>Optimiser steps taken.</summary>
    public long Step { get; private set; }
    /// <summary>The checkpoint folder this run last saved or resumed from, if any.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <param name="model">A model whose input size equals the scenes' canvas.</param>
    public SamTrainer(SamModel model, FashionMnistScenes scenes, SamTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scenes);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (scenes.Options.CanvasSize != model.image_encoder.ImgSize)
            throw new ArgumentException($"scene canvas ({scenes.Options.CanvasSize}) must equal the model's image_size ({model.image_encoder.ImgSize})", nameof(scenes));
        Model = model;
        Scenes = scenes;
        Options = options;
        foreach (var (name, p) in model.named_parameters())
            p.requires_grad = !options.DecoderOnly || name.StartsWith("mask_decoder.", StringComparison.Ordinal);
        optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: options.LearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8,
            weight_decay: options.WeightDecay);
        model.train();
    }

    /// <summary>The learning rate of step <paramref name="step"/> (1-based): linear warm-up, then constant.</summary>
    public double LearningRateAt(long step) => LearningRateSchedule.Warmup(Options.LearningRate, Options.WarmupSteps, step);

    /// <summary>One step on the next batch of the scene stream (scenes Step·B … Step·B + B − 1).</summary>
    public SamStepResult TrainStep()
    {
        var batch = Scenes.Range(Step * Options.BatchScenes, Options.BatchScenes).ToList();
        return TrainOn(batch, FashionMnistScenes.RandomFor(Options.Seed, Step, stream: 7));
    }

    /// <summary>One optimiser step on the given scenes, drawing prompts from <paramref name="rng"/>.</summary>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite (the optimiser does not take the step).</exception>
    public SamStepResult TrainOn(IReadOnlyList<SegmentationScene> batch, Random rng)
    {
        using var scope = NewDisposeScope();
        double learningRate = LearningRateAt(Step + 1);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
        optimizer.zero_grad();
        using var result = ComputeLoss(Model, batch, rng, Options);
        TrainingDivergedException.ThrowIfNotFinite(result.Loss.item<float>(), Step + 1, LastCheckpoint);
        result.Loss.backward();
        optimizer.step();
        Step++;
        return new SamStepResult(Step, result.Loss.item<float>(), result.MaskLoss, result.IouLoss, result.FirstRoundIou, result.Objects, learningRate);
    }

    /// <summary>The SAM training loss of a batch with simulated interactive prompts.</summary>
    public static SamLossResult ComputeLoss(SamModel model, IReadOnlyList<SegmentationScene> batch, Random rng, SamTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("batch holds no scenes", nameof(batch));
        using var scope = NewDisposeScope();
        var images = SamSceneRunner.ImageBatch(model, batch);
        Tensor embeddings;
        // A frozen encoder needs no graph.
        using (options.DecoderOnly ? no_grad() : null) embeddings = model.image_encoder.call(images); // (B, C, h, w)
        var total = zeros(1, dtype: model.Dtype).squeeze();
        double maskSum = 0, iouSum = 0, firstIou = 0;
        int terms = 0, objects = 0;
        for (int b = 0; b < batch.Count; b++)
        {
            var scene = batch[b];
            int k = scene.Objects.Count, s = scene.Size;
            var targets = SamSceneRunner.Targets(scene, model.Dtype).unsqueeze(1); // (K, 1, S, S)
            bool point = rng.NextDouble() < options.PointProbability;
            var points = scene.Objects.Select(o => point ? new List<PromptPoint> { PromptSampler.PointInside(o.Mask, s, rng) } : []).ToList();
            var boxes = scene.Objects.Select(o => point ? (PixelBox?)null : PromptSampler.NoisyBox(o.Mask, s, rng)).ToList();
            Tensor? maskInput = null;
            for (int round = 0; round <= options.CorrectionRounds; round++)
            {
                bool multimask = round == 0 && point;
                var prompts = Enumerable.Range(0, k).Select(i => new ObjectPrompt(points[i], boxes[i])).ToList();
                using var dec = SamSceneRunner.Decode(model, embeddings.narrow(0, b, 1), prompts, maskInput, multimask);
                var perMask = SamLoss.MaskLoss(dec.Masks, targets); // (K, M)
                var actual = SamLoss.ActualIou(dec.Masks, targets); // (K, M)
                var best = perMask.detach().argmin(1); // (K)
                var rows = arange(k, dtype: ScalarType.Int64);
                var maskLoss = perMask[rows, best].mean();
                var iouLoss = options.SuperviseAllIou
                    ? (dec.IouPred - actual).pow(2).mean()
                    : (dec.IouPred[rows, best] - actual[rows, best]).pow(2).mean();
                total = total + maskLoss + options.IouLossWeight * iouLoss;
                maskSum += maskLoss.item<float>();
                iouSum += iouLoss.item<float>();
                if (round == 0) firstIou += actual[rows, best].sum().item<float>();
                terms++;

                if (round == options.CorrectionRounds) break;
                maskInput = dec.LowRes[rows, best].unsqueeze(1).detach(); // (K, 1, 4h, 4w)
                var chosen = dec.Masks[rows, best].detach(); // (K, S, S)
                for (int i = 0; i < k; i++)
                {
                    var click = PromptSampler.CorrectionClick(SamSceneRunner.Binary(chosen[i]), scene.Objects[i].Mask, s, rng)
                        ?? PromptSampler.PointInside(scene.Objects[i].Mask, s, rng);
                    points[i] = [.. points[i], click];
                }
            }
            objects += k;
        }
        var loss = total / terms;
        return new SamLossResult(loss.MoveToOuterDisposeScope(), maskSum / terms, iouSum / terms, firstIou / objects, objects);
    }

    /// <summary>
    /// Writes <c>checkpoint-{Step}</c> under <paramref name="checkpointRoot"/> (<see cref="CheckpointFolders"/>): the model
    /// (torch.save zip with the official key names), the optimiser moments, <c>sam_config.json</c> and
    /// <c>trainer_state.json</c>, in a temporary folder renamed when complete; older checkpoints are pruned.
    /// </summary>
    /// <returns>The checkpoint folder.</returns>
    public string SaveCheckpoint(string checkpointRoot)
    {
        var state = new SamTrainState
        {
            Step = Step, ModelFile = ModelFile, OptimizerFile = OptimizerFile, SamConfig = JsonDocument.Parse(Model.Config.ToJson()).RootElement.Clone(),
            Training = Options, Scenes = Scenes.Options,
        };
        LastCheckpoint = CheckpointFolders.Save(checkpointRoot, Step, Options.Seed, KeepCheckpoints, (JsonObject)JsonSerializer.SerializeToNode(state)!, temp =>
        {
            StateDict.SavePyTorch(Model.state_dict(), Path.Combine(temp, ModelFile));
            optimizer.save_state_dict(Path.Combine(temp, OptimizerFile));
            AtomicFile.WriteAllText(Path.Combine(temp, ConfigFile), Model.Config.ToJson());
        });
        return LastCheckpoint;
    }

    /// <summary>The newest complete checkpoint folder under <paramref name="checkpointRoot"/>, or null.</summary>
    public static string? LatestCheckpoint(string checkpointRoot) => CheckpointFolders.Latest(checkpointRoot);

    /// <summary>The model sizes, model file and state of a checkpoint folder, or of the newest one under a root or a
    /// <c>sam train</c> output folder.</summary>
    /// <exception cref="FileNotFoundException">No complete checkpoint there.</exception>
    /// <exception cref="InvalidDataException">Its trainer_state.json is malformed.</exception>
    public static (SamConfig Config, string ModelPath, SamTrainState State) ReadCheckpoint(string path)
    {
        var (directory, json) = CheckpointFolders.Load(CheckpointFolders.Resolve(path));
        var file = Path.Combine(directory, CheckpointFolders.StateFile);
        SamTrainState state;
        try { state = json.Deserialize<SamTrainState>() ?? throw new InvalidDataException($"{file} is empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{file} is not a valid training state: {e.Message}", e); }
        return (SamConfig.FromJson(state.SamConfig.GetRawText()), Path.Combine(directory, state.ModelFile), state);
    }

    /// <summary>Rebuilds a trainer from a checkpoint (see <see cref="ReadCheckpoint"/>): model weights, optimiser state and step.</summary>
    /// <exception cref="FileNotFoundException">The checkpoint's optimiser state file is missing (checkpoints from before the switch to
    /// TorchSharp's AdamW held <c>optimizer.pth</c>).</exception>
    /// <param name="source">The training images (the scene options come from the checkpoint).</param>
    /// <param name="learningRate">Replaces the stored peak learning rate (e.g. after a divergence); null keeps it.</param>
    public static SamTrainer Resume(string path, Nn.Data.LabeledImages source, double? learningRate = null)
    {
        var (config, modelPath, state) = ReadCheckpoint(path);
        var directory = Path.GetDirectoryName(modelPath)!;
        var optimizerPath = Path.Combine(directory, OptimizerFile);
        if (state.OptimizerFile != OptimizerFile || !File.Exists(optimizerPath))
            throw new FileNotFoundException($"checkpoint file not found: {optimizerPath} (TorchSharp AdamW state)", optimizerPath);
        var model = SamModel.FromCheckpoint(modelPath, config);
        var options = learningRate is double lr ? state.Training with { LearningRate = lr } : state.Training;
        var trainer = new SamTrainer(model, new FashionMnistScenes(source, state.Scenes), options) { LastCheckpoint = directory, Step = state.Step };
        trainer.optimizer.load_state_dict(optimizerPath);
        return trainer;
    }

    /// <summary>Frees the optimiser state (the model belongs to the caller).</summary>
    public void Dispose() => optimizer.Dispose();
}
