using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn;
using SharpVision.Nn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Training;

/// <summary>
/// Trains a <see cref="UNet2DModel"/> as a DDPM (Ho et al. 2020): pick a timestep and noise per image, noise the image with
/// <see cref="DDPMScheduler.AddNoise"/>, and regress the objective's target (the noise, v = <see cref="DDPMScheduler.GetVelocity"/>,
/// or x_0) with mean squared error. AdamW with a linear learning-rate warm-up and gradient clipping, an EMA copy of the
/// weights, optional class conditioning with label dropout for classifier-free guidance. Follows the recipe of diffusers'
/// examples/unconditional_image_generation/train_unconditional.py.
/// </summary>
/// <remarks>
/// <para>Deterministic: every random draw of step n (the epoch's shuffle, timesteps, noise, label dropout, dropout layers)
/// comes from generators seeded by (seed, n), so a run resumed from a checkpoint continues exactly as the uninterrupted run
/// would (on the same device and libtorch build).</para>
/// <para>Checkpoints (<see cref="SaveCheckpoint"/>) are folders <c>checkpoint-NNNNNNNN</c> in diffusers' layout:
/// <c>model/</c> and <c>ema/</c> (config.json + diffusion_pytorch_model.safetensors), <c>scheduler/scheduler_config.json</c>,
/// plus <c>optimizer.bin</c> (TorchSharp optimizer state), <c>trainer_state.json</c> (step, options, RNG scheme) and a
/// <c>checkpoint-complete</c> marker. Each is written in a temporary folder that is renamed when complete, so a run killed
/// mid-save leaves the previous checkpoint intact.</para>
/// </remarks>
public sealed class DiffusionTrainer : IDisposable
{
    /// <summary>Written last into a checkpoint folder; folders without it are ignored.</summary>
    public const string CompleteMarker = CheckpointFolders.CompleteMarker;

    readonly Tensor images;
    readonly Tensor? labels;
    readonly TorchSharp.Modules.AdamW optimizer;
    readonly long? nullClass;

    /// <summary>The trained model (train mode).</summary>
    public UNet2DModel Model { get; }

    /// <summary>The exponential moving average of the weights (eval mode); usually the better sampler.</summary>
    public UNet2DModel Ema { get; }

    /// <summary>The noise schedule trained on.</summary>
    public DDPMScheduler Scheduler { get; }

    /// <summary>The run's options.</summary>
    public DiffusionTrainingOptions Options { get; }

    /// <summary>Optimizer steps done.</summary>
    public long Step { get; private set; }

    /// <summary>Starts a fresh run: the model is initialised from <c>options.Seed</c>.</summary>
    /// <param name="images">(N, C, H, W) training images in [−1, 1] (for Fashion-MNIST, <c>SharpVision.Experiments.Diffusion.FashionMnistDiffusionData</c>).</param>
    /// <param name="labels">(N) int64 class ids for a class-conditional model (num_class_embeds = classes + 1, the last id
    /// being the null class); null for an unconditional one.</param>
    /// <exception cref="ArgumentException">Images or labels that do not fit the model, or a batch larger than the data.</exception>
    public DiffusionTrainer(UNet2DModelConfig modelConfig, DDPMSchedulerConfig schedulerConfig, DiffusionTrainingOptions options, Tensor images, Tensor? labels)
        : this(NewModel(modelConfig, options), schedulerConfig, options, images, labels, step: 0, optimizerState: null, ema: null)
    {
    }

    static UNet2DModel NewModel(UNet2DModelConfig config, DiffusionTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        torch.manual_seed(options.Seed);
        return new UNet2DModel(config);
    }

    DiffusionTrainer(UNet2DModel model, DDPMSchedulerConfig schedulerConfig, DiffusionTrainingOptions options, Tensor images, Tensor? labels,
        long step, string? optimizerState, UNet2DModel? ema)
    {
        ArgumentNullException.ThrowIfNull(schedulerConfig);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        if (options.LearningRate <= 0 || !double.IsFinite(options.LearningRate))
            throw new ArgumentOutOfRangeException(nameof(options), options.LearningRate, "learning rate must be positive");
        if (options.LabelDropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(options), options.LabelDropout, "label dropout must be in [0, 1]");
        Model = model;
        Options = options;
        Scheduler = new DDPMScheduler(schedulerConfig);
        Step = step;
        nullClass = ClassifierFreeGuidance.NullClass(model);

        var c = model.Config;
        Shapes.RequireRank(images, 4, $"(N, {c.InChannels}, H, W)", nameof(images));
        Shapes.RequireDim(images, 1, c.InChannels, $"(N, {c.InChannels}, H, W)", nameof(images));
        if (images.shape[0] < options.BatchSize)
            throw new ArgumentException($"batch size {options.BatchSize} exceeds the {images.shape[0]} training images", nameof(options));
        if (model.class_embedding is not null && nullClass is null)
            throw new ArgumentException("only class-conditional models with a num_class_embeds lookup table can be trained here", nameof(model));
        if (nullClass is not null)
        {
            if (labels is null) throw new ArgumentException($"the model is class-conditional (num_class_embeds {c.NumClassEmbeds}); labels are required", nameof(labels));
            if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
                throw new ArgumentException($"labels must be ({images.shape[0]}); got {Shapes.Format(labels)}", nameof(labels));
            long max = labels.max().item<long>(), min = labels.min().item<long>();
            if (min < 0 || max >= nullClass)
                throw new ArgumentException($"labels must be in 0..{nullClass - 1} (num_class_embeds {c.NumClassEmbeds} keeps {nullClass} for the null class); got {min}..{max}", nameof(labels));
        }
        else if (labels is not null)
            throw new ArgumentException("labels given, but the model has no class embedding (set num_class_embeds = classes + 1)", nameof(labels));
        // Own copies, outside any caller's dispose scope.
        this.images = images.to(model.Dtype).detach().clone().DetachFromDisposeScope();
        this.labels = labels?.to(ScalarType.Int64).detach().clone().DetachFromDisposeScope();

        Model.train();
        optimizer = torch.optim.AdamW(Model.parameters(), lr: options.LearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: options.WeightDecay);
        if (optimizerState is not null) optimizer.load_state_dict(optimizerState);
        if (ema is null)
        {
            ema = new UNet2DModel(c);
            CopyWeights(Model, ema);
        }
        Ema = ema;
        Ema.eval();
        foreach (var p in Ema.parameters()) p.requires_grad = false;
    }

    /// <summary>Continues from the newest complete checkpoint under <paramref name="checkpointRoot"/> with its stored options.</summary>
    /// <param name="images">The same training data as the original run (for identical results).</param>
    /// <param name="learningRate">Replaces the stored peak learning rate (e.g. after a divergence); null keeps it.</param>
    /// <exception cref="FileNotFoundException">No complete checkpoint there.</exception>
    public static DiffusionTrainer Resume(string checkpointRoot, Tensor images, Tensor? labels, double? learningRate = null)
    {
        var (dir, state) = CheckpointFolders.LoadLatest(checkpointRoot);
        long step = CheckpointFolders.StepOf(state);
        var options = state["options"].Deserialize<DiffusionTrainingOptions>()
            ?? throw new InvalidDataException($"{Path.Combine(dir, CheckpointFolders.StateFile)}: no options");
        if (learningRate is double lr) options = options with { LearningRate = lr };
        var model = UNet2DModel.FromPretrained(Path.Combine(dir, "model"));
        var ema = UNet2DModel.FromPretrained(Path.Combine(dir, "ema"));
        var scheduler = DDPMSchedulerConfig.Load(Path.Combine(dir, "scheduler"));
        return new DiffusionTrainer(model, scheduler, options, images, labels, step, Path.Combine(dir, CheckpointFolders.OptimizerFile), ema);
    }

    /// <summary>The newest folder <c>checkpoint-N</c> holding the completion marker, or null.</summary>
    public static string? LatestCheckpoint(string checkpointRoot) => CheckpointFolders.Latest(checkpointRoot);

    /// <summary>The learning rate of step <paramref name="step"/> (1-based): linear warm-up, then constant.</summary>
    public double LearningRateAt(long step) => LearningRateSchedule.Warmup(Options.LearningRate, Options.WarmupSteps, step);

    /// <summary>The EMA decay after <paramref name="step"/> optimizer steps: min(EmaDecay, (1 + step) / (10 + step)).</summary>
    public double EmaDecayAt(long step) => Math.Min(Options.EmaDecay, (1.0 + step) / (10.0 + step));

    /// <summary>One optimizer step on the next batch.</summary>
    /// <returns>The batch loss.</returns>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite (the weights are left as they were).</exception>
    public double TrainStep(string? checkpointRoot = null)
    {
        using var scope = torch.NewDisposeScope();
        long n = Step; // 0-based index of this step
        int batch = Options.BatchSize;
        long count = images.shape[0];
        var (index, t, noise) = DiffusionStep.Draw(count, batch, Options.Seed, n, Scheduler.Config.NumTrainTimesteps,
            [batch, .. images.shape.Skip(1)], images.dtype, out var generator);
        using var g = generator;
        var x0 = images.index_select(0, index); // (B, C, H, W)
        Tensor? y = null;
        if (labels is not null)
        {
            var drop = torch.rand([batch], generator: g) < Options.LabelDropout; // (B)
            y = torch.where(drop, torch.full_like(index, nullClass!.Value), labels.index_select(0, index));
        }

        var noisy = Scheduler.AddNoise(x0, noise, t);
        var target = DiffusionStep.Target(Scheduler, x0, noise, t);
        var prediction = Model.forward(noisy, t, y);
        var loss = DiffusionStep.Loss(prediction, target, n + 1, checkpointRoot is null ? null : LatestCheckpoint(checkpointRoot));
        double value = loss.item<float>();
        DiffusionStep.Apply(optimizer, loss, Model.parameters(), LearningRateAt(n + 1), Options.GradientClip);
        Step = n + 1;
        UpdateEma();
        return value;
    }

    void UpdateEma()
    {
        double decay = EmaDecayAt(Step);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var source = Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in Ema.named_parameters())
            p.mul_(decay).add_(source[name], alpha: 1 - decay);
    }

    static void CopyWeights(UNet2DModel from, UNet2DModel to)
    {
        using var noGrad = torch.no_grad();
        var source = from.state_dict();
        foreach (var (name, t) in to.state_dict()) t.copy_(source[name]);
    }

    /// <summary>
    /// Trains until <paramref name="untilStep"/> optimizer steps, checkpointing every <c>CheckpointEvery</c> steps and at
    /// the end when <paramref name="checkpointRoot"/> is given.
    /// </summary>
    /// <param name="samples">Called every <c>SampleEvery</c> steps with (step, (SampleCount, C, H, W) EMA samples in [−1, 1]).</param>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite; earlier checkpoints are kept.</exception>
    public void Train(long untilStep, string? checkpointRoot = null, Action<DiffusionTrainingProgress>? progress = null,
        Action<long, Tensor>? samples = null, CancellationToken cancel = default)
    {
        DiffusionStep.Loop(() => Step, untilStep, Options.BatchSize, () => TrainStep(checkpointRoot), LearningRateAt, Options.CheckpointEvery,
            checkpointRoot, SaveCheckpoint, progress, cancel, step =>
            {
                if (samples is null || Options.SampleEvery <= 0 || (step % Options.SampleEvery != 0 && step != untilStep)) return;
                using var grid = SampleEma(Options.SampleCount, Options.SampleSteps, seed: Options.Seed);
                samples(step, grid);
            });
    }

    /// <summary>DDIM samples (eta 0) from the EMA weights; class-conditional models cycle through the classes.</summary>
    /// <returns>(count, C, H, W) in [−1, 1].</returns>
    public Tensor SampleEma(int count, int steps, long seed, double guidanceScale = 1.0)
    {
        long[]? classes = nullClass is long k ? Enumerable.Range(0, count).Select(i => i % k).ToArray() : null;
        var size = Model.Config.SampleSize is [int s, ..] ? s : (int)images.shape[2];
        return new DDIMPipeline(Ema, new DDIMScheduler(DdimConfig(Scheduler.Config)))
            .Sample(new SamplingOptions(count, Math.Min(steps, Scheduler.Config.NumTrainTimesteps), 0, seed, classes, guidanceScale, size, size));
    }

    /// <summary>The DDIM sampling config for a DDPM training schedule (same betas and prediction type).</summary>
    public static DDIMSchedulerConfig DdimConfig(DDPMSchedulerConfig c) => new()
    {
        NumTrainTimesteps = c.NumTrainTimesteps, BetaStart = c.BetaStart, BetaEnd = c.BetaEnd, BetaSchedule = c.BetaSchedule,
        TrainedBetas = c.TrainedBetas, ClipSample = c.ClipSample, ClipSampleRange = c.ClipSampleRange, PredictionType = c.PredictionType,
        TimestepSpacing = c.TimestepSpacing, StepsOffset = c.StepsOffset, RescaleBetasZeroSnr = c.RescaleBetasZeroSnr,
    };

    /// <summary>Writes <c>checkpoint-{Step}</c> under <paramref name="checkpointRoot"/> atomically and prunes old checkpoints.</summary>
    /// <returns>The checkpoint folder.</returns>
    public string SaveCheckpoint(string checkpointRoot) =>
        CheckpointFolders.Save(checkpointRoot, Step, Options.Seed, Options.KeepCheckpoints,
            new JsonObject { ["options"] = JsonSerializer.SerializeToNode(Options), ["rng"] = DiffusionStep.RngScheme }, temp =>
            {
                Model.SavePretrained(Path.Combine(temp, "model"));
                Ema.SavePretrained(Path.Combine(temp, "ema"));
                DiffusionStep.SaveSchedulerFolder(Scheduler.Config, Path.Combine(temp, "scheduler"));
                optimizer.save_state_dict(Path.Combine(temp, CheckpointFolders.OptimizerFile));
            });

    /// <summary>Frees both models and the optimizer state.</summary>
    public void Dispose()
    {
        Model.Dispose();
        Ema.Dispose();
        optimizer.Dispose();
        images.Dispose();
        labels?.Dispose();
    }
}
