using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn;
using SharpVision.Nn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Training;

/// <summary>
/// Trains a <see cref="UNet2DControlNet"/> on top of a trained, locked <see cref="UNet2DModel"/> with Sobel edge maps
/// (<see cref="EdgeMaps"/>) of the training images as the condition (Zhang et al. 2023, "Adding Conditional Control to
/// Text-to-Image Diffusion Models"; the recipe of diffusers' examples/controlnet/train_controlnet.py): noise each image at
/// a random timestep, let the ControlNet see the noisy image and the clean image's edges, and regress the locked UNet's
/// prediction under the ControlNet's residuals onto the scheduler's target with mean squared error. Only the ControlNet
/// learns (AdamW, linear warm-up, gradient clipping).
/// </summary>
/// <remarks>
/// <para>The base UNet is locked: it is put in eval mode with requires_grad false on every parameter and its weights are
/// never written (gradients flow through it to the residuals only). Class-conditional base models always get the
/// image's true class (no label dropout): the ControlNet learns the edges, the class comes from the base model.</para>
/// <para>Deterministic like <see cref="DiffusionTrainer"/>: step n draws from generators seeded by (seed, n), so a resumed
/// run continues exactly as the uninterrupted one.</para>
/// <para>Checkpoints <c>checkpoint-NNNNNNNN</c> hold <c>controlnet/</c> (<see cref="UNet2DControlNet.SavePretrained"/>),
/// <c>scheduler/scheduler_config.json</c>, <c>optimizer.bin</c>, <c>trainer_state.json</c> (step, options, base model path)
/// and the <c>checkpoint-complete</c> marker, written in a temporary folder and renamed when complete.</para>
/// </remarks>
public sealed class ControlNetTrainer : IDisposable
{
    readonly Tensor images;
    readonly Tensor? labels;
    readonly TorchSharp.Modules.AdamW optimizer;

    /// <summary>The locked base model (eval mode, no gradients; not owned: the caller disposes it).</summary>
    public UNet2DModel BaseModel { get; }

    /// <summary>Where the base model was loaded from (recorded in checkpoints), if known.</summary>
    public string? BaseModelPath { get; }

    /// <summary>The trained ControlNet (train mode).</summary>
    public UNet2DControlNet ControlNet { get; }

    /// <summary>The noise schedule the base model was trained with.</summary>
    public DDPMScheduler Scheduler { get; }

    /// <summary>The run's options.</summary>
    public ControlNetTrainingOptions Options { get; }

    /// <summary>Optimizer steps done.</summary>
    public long Step { get; private set; }

    /// <summary>Starts a fresh run: a ControlNet copied from <paramref name="baseModel"/>'s encoder with a conditioning embedding
    /// seeded by <c>options.Seed</c> and zero convolutions at zero.</summary>
    /// <param name="baseModel">The trained UNet (locked by this call).</param>
    /// <param name="baseModelPath">Its folder, recorded in checkpoints (may be null).</param>
    /// <param name="schedulerConfig">The base model's training schedule.</param>
    /// <param name="images">(N, C, H, W) training images in [−1, 1], C = 1 (edge maps are greyscale).</param>
    /// <param name="labels">(N) int64 class ids for a class-conditional base model; null for an unconditional one.</param>
    /// <exception cref="ArgumentException">Images or labels that do not fit the model, or a batch larger than the data.</exception>
    public ControlNetTrainer(UNet2DModel baseModel, string? baseModelPath, DDPMSchedulerConfig schedulerConfig, ControlNetTrainingOptions options,
        Tensor images, Tensor? labels)
        : this(baseModel, baseModelPath, schedulerConfig, options, images, labels, NewControlNet(baseModel, options), 0, null)
    {
    }

    static UNet2DControlNet NewControlNet(UNet2DModel baseModel, ControlNetTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(options);
        torch.manual_seed(options.Seed);
        return UNet2DControlNet.FromUNet(baseModel, options.Stages, conditioningChannels: 1);
    }

    ControlNetTrainer(UNet2DModel baseModel, string? baseModelPath, DDPMSchedulerConfig schedulerConfig, ControlNetTrainingOptions options,
        Tensor images, Tensor? labels, UNet2DControlNet controlNet, long step, string? optimizerState)
    {
        ArgumentNullException.ThrowIfNull(schedulerConfig);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        if (options.LearningRate <= 0 || !double.IsFinite(options.LearningRate))
            throw new ArgumentOutOfRangeException(nameof(options), options.LearningRate, "learning rate must be positive");
        controlNet.RequireCompatible(baseModel);
        var c = baseModel.Config;
        if (controlNet.ConditioningChannels != 1)
            throw new ArgumentException($"the ControlNet takes {controlNet.ConditioningChannels}-channel conditions; edge maps have 1", nameof(controlNet));
        Shapes.RequireRank(images, 4, "(N, 1, H, W)", nameof(images));
        Shapes.RequireDim(images, 1, c.InChannels, $"(N, {c.InChannels}, H, W)", nameof(images));
        Shapes.RequireDim(images, 1, 1, "(N, 1, H, W) greyscale (edge maps are computed from one channel)", nameof(images));
        if (images.shape[0] < options.BatchSize)
            throw new ArgumentException($"batch size {options.BatchSize} exceeds the {images.shape[0]} training images", nameof(options));
        long? nullClass = ClassifierFreeGuidance.NullClass(baseModel);
        if (baseModel.class_embedding is not null && nullClass is null)
            throw new ArgumentException("only class-conditional base models with a num_class_embeds lookup table are supported", nameof(baseModel));
        if (nullClass is not null)
        {
            if (labels is null) throw new ArgumentException($"the base model is class-conditional (num_class_embeds {c.NumClassEmbeds}); labels are required", nameof(labels));
            if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
                throw new ArgumentException($"labels must be ({images.shape[0]}); got {Shapes.Format(labels)}", nameof(labels));
        }
        else if (labels is not null)
            throw new ArgumentException("labels given, but the base model has no class embedding", nameof(labels));

        BaseModel = baseModel;
        BaseModelPath = baseModelPath;
        BaseModel.eval();
        foreach (var p in BaseModel.parameters()) p.requires_grad = false;
        ControlNet = controlNet;
        ControlNet.train();
        foreach (var p in ControlNet.parameters()) p.requires_grad = true;
        Options = options;
        Scheduler = new DDPMScheduler(schedulerConfig);
        Step = step;
        this.images = images.to(baseModel.Dtype).detach().clone().DetachFromDisposeScope();
        this.labels = labels?.to(ScalarType.Int64).detach().clone().DetachFromDisposeScope();
        optimizer = torch.optim.AdamW(ControlNet.parameters(), lr: options.LearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: options.WeightDecay);
        if (optimizerState is not null) optimizer.load_state_dict(optimizerState);
    }

    /// <summary>Continues from the newest complete checkpoint under <paramref name="checkpointRoot"/> with its stored options.</summary>
    /// <param name="baseModel">The same base model as the original run (see <see cref="StoredBaseModelPath"/>).</param>
    /// <param name="images">The same training data as the original run (for identical results).</param>
    /// <exception cref="FileNotFoundException">No complete checkpoint there.</exception>
    /// <param name="learningRate">Replaces the stored peak learning rate (e.g. after a divergence); null keeps it.</param>
    /// <exception cref="ArgumentException">The checkpoint's ControlNet was built for another UNet configuration.</exception>
    public static ControlNetTrainer Resume(string checkpointRoot, UNet2DModel baseModel, string? baseModelPath, Tensor images, Tensor? labels,
        double? learningRate = null)
    {
        var (dir, state) = CheckpointFolders.LoadLatest(checkpointRoot);
        long step = CheckpointFolders.StepOf(state);
        var options = state["options"].Deserialize<ControlNetTrainingOptions>()
            ?? throw new InvalidDataException($"{Path.Combine(dir, CheckpointFolders.StateFile)}: no options");
        if (learningRate is double lr) options = options with { LearningRate = lr };
        var controlNet = UNet2DControlNet.FromPretrained(Path.Combine(dir, "controlnet"), baseModel.Dtype);
        var scheduler = DDPMSchedulerConfig.Load(Path.Combine(dir, "scheduler"));
        return new ControlNetTrainer(baseModel, baseModelPath ?? StoredBaseModelPath(checkpointRoot), scheduler, options, images, labels,
            controlNet, step, Path.Combine(dir, CheckpointFolders.OptimizerFile));
    }

    /// <summary>The base model path recorded in the newest complete checkpoint, or null.</summary>
    public static string? StoredBaseModelPath(string checkpointRoot) =>
        CheckpointFolders.Latest(checkpointRoot) is null ? null : CheckpointFolders.LoadLatest(checkpointRoot).State["base_model"]?.GetValue<string>();

    /// <summary>The newest folder <c>checkpoint-N</c> holding the completion marker, or null.</summary>
    public static string? LatestCheckpoint(string checkpointRoot) => CheckpointFolders.Latest(checkpointRoot);

    /// <summary>The learning rate of step <paramref name="step"/> (1-based): linear warm-up, then constant.</summary>
    public double LearningRateAt(long step) => LearningRateSchedule.Warmup(Options.LearningRate, Options.WarmupSteps, step);

    /// <summary>One optimizer step of the ControlNet on the next batch.</summary>
    /// <returns>The batch loss.</returns>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite (the weights are left as they were).</exception>
    public double TrainStep(string? checkpointRoot = null)
    {
        using var scope = torch.NewDisposeScope();
        long n = Step; // 0-based index of this step
        int batch = Options.BatchSize;
        var (index, t, noise) = DiffusionStep.Draw(images.shape[0], batch, Options.Seed, n, Scheduler.Config.NumTrainTimesteps,
            [batch, .. images.shape.Skip(1)], images.dtype, out var generator);
        generator.Dispose();
        var x0 = images.index_select(0, index); // (B, 1, H, W)
        // edges of the clean image, (B, 1, H·f, W·f)
        var condition = EdgeMaps.Condition(x0, ControlNet.controlnet_cond_embedding.DownsampleFactor, Options.EdgeThreshold).to(x0.dtype);
        var y = labels?.index_select(0, index); // (B) true classes

        var noisy = Scheduler.AddNoise(x0, noise, t);
        var target = DiffusionStep.Target(Scheduler, x0, noise, t);
        var residuals = ControlNet.Forward(noisy, t, condition, y);
        var prediction = BaseModel.Forward(noisy, t, y, residuals.DownBlockResSamples, residuals.MidBlockResSample);
        var loss = DiffusionStep.Loss(prediction, target, n + 1, checkpointRoot is null ? null : LatestCheckpoint(checkpointRoot));
        double value = loss.item<float>();
        DiffusionStep.Apply(optimizer, loss, ControlNet.parameters(), LearningRateAt(n + 1), Options.GradientClip);
        Step = n + 1;
        return value;
    }

    /// <summary>Trains until <paramref name="untilStep"/> steps, checkpointing every <c>CheckpointEvery</c> steps and at the end
    /// when <paramref name="checkpointRoot"/> is given.</summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite; earlier checkpoints are kept.</exception>
    public void Train(long untilStep, string? checkpointRoot = null, Action<DiffusionTrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        DiffusionStep.Loop(() => Step, untilStep, Options.BatchSize, () => TrainStep(checkpointRoot), LearningRateAt, Options.CheckpointEvery,
            checkpointRoot, SaveCheckpoint, progress, cancel);
    }

    /// <summary>Writes <c>checkpoint-{Step}</c> under <paramref name="checkpointRoot"/> atomically and prunes old checkpoints.</summary>
    /// <returns>The checkpoint folder.</returns>
    public string SaveCheckpoint(string checkpointRoot) =>
        CheckpointFolders.Save(checkpointRoot, Step, Options.Seed, Options.KeepCheckpoints,
            new JsonObject
            {
                ["options"] = JsonSerializer.SerializeToNode(Options), ["rng"] = DiffusionStep.RngScheme,
                ["base_model"] = BaseModelPath is null ? null : Path.GetFullPath(BaseModelPath),
                ["base_model_locked"] = "eval mode, requires_grad false, weights never written",
            }, temp =>
            {
                ControlNet.SavePretrained(Path.Combine(temp, "controlnet"));
                DiffusionStep.SaveSchedulerFolder(Scheduler.Config, Path.Combine(temp, "scheduler"));
                optimizer.save_state_dict(Path.Combine(temp, CheckpointFolders.OptimizerFile));
            });

    /// <summary>Frees the ControlNet, the optimizer state and the data copies (not the base model).</summary>
    public void Dispose()
    {
        ControlNet.Dispose();
        optimizer.Dispose();
        images.Dispose();
        labels?.Dispose();
    }
}
