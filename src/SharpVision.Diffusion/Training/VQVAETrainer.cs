using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Quantization;
using SharpVision.Nn;
using SharpVision.Nn.Training;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Training;

/// <summary>
/// Trains a <see cref="VQModel"/> as a VQ-VAE: loss = mse(decode(quantize(encode(x))), x) + quantizer loss, with Adam.
/// Checkpoints are <see cref="CheckpointFolders"/> (<c>checkpoint-NNNNNNNN</c>, written whole, then renamed) holding the
/// model in diffusers' format (<c>model/</c>), the optimizer state, the quantizer's random-generator state and
/// <c>trainer_state.json</c> (step and options); <see cref="Resume"/> continues bit-for-bit where <see cref="Save"/> left
/// off, because the data order is a function of (seed, epoch) (<see cref="SeedMixer.BatchIndices"/>) rather than of a running random stream.
/// </summary>
public sealed class VQVAETrainer : IDisposable
{
    /// <summary>Names inside a checkpoint folder.</summary>
    public const string ModelFolder = "model", OptimizerFile = CheckpointFolders.OptimizerFile, StateFile = CheckpointFolders.StateFile,
        GeneratorFile = "generator.safetensors";

    /// <summary>Complete checkpoints kept on disk.</summary>
    public const int KeepCheckpoints = 2;

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    readonly Tensor images;
    readonly Generator generator;
    readonly TorchSharp.Modules.Adam optimizer;

    /// <summary>The model being trained.</summary>
    public VQModel Model { get; }
    /// <summary>The run's options.</summary>
    public VQVAETrainingOptions Options { get; }
    /// <summary>Steps done.</summary>
    public long Step { get; private set; }
    /// <summary>The checkpoint folder this run last saved or resumed from, if any.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <summary>Starts a run from freshly initialised weights (seeded by <c>options.Seed</c>).</summary>
    /// <param name="config">Architecture; in_channels must match the images.</param>
    /// <param name="trainImages">(N, C, H, W) in [−1, 1] (see <see cref="PrepareImages"/>); N ≥ batch size.</param>
    /// <exception cref="ArgumentException">Images of the wrong shape or too few for one batch.</exception>
    public VQVAETrainer(VQModelConfig config, Tensor trainImages, VQVAETrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        CheckImages(trainImages, config.InChannels, options.BatchSize);
        generator = new Generator((ulong)options.Seed);
        Model = new VQModel(config, options.Quantizer, generator);
        SeededInit.Apply(Model, generator);
        Options = options;
        images = trainImages;
        optimizer = optim.Adam(Model.parameters(), options.LearningRate);
    }

    VQVAETrainer(VQModel model, Generator generator, Tensor trainImages, VQVAETrainingOptions options, long step)
    {
        Model = model;
        this.generator = generator;
        images = trainImages;
        Options = options;
        Step = step;
        optimizer = optim.Adam(Model.parameters(), options.LearningRate);
    }

    static void CheckImages(Tensor trainImages, int channels, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(trainImages);
        Shapes.RequireRank(trainImages, 4, $"(N, {channels}, H, W)", nameof(trainImages));
        Shapes.RequireDim(trainImages, 1, channels, $"(N, {channels}, H, W)", nameof(trainImages));
        if (trainImages.shape[0] < batchSize)
            throw new ArgumentException($"trainImages holds {trainImages.shape[0]} images, fewer than one batch of {batchSize}", nameof(trainImages));
    }

    /// <summary>
    /// Fashion-MNIST-style bytes to model input: (N, 1, size, size) in [−1, 1], the 28×28 images zero-padded (background)
    /// equally on each side so that every stage halves an even size.
    /// </summary>
    /// <exception cref="ArgumentException">size smaller than the images or of different parity.</exception>
    public static Tensor PrepareImages(LabeledImages data, int size = 32)
    {
        ArgumentNullException.ThrowIfNull(data);
        int padH = size - data.Height, padW = size - data.Width;
        if (padH < 0 || padW < 0 || padH % 2 != 0 || padW % 2 != 0)
            throw new ArgumentException($"size must be at least {data.Height}×{data.Width} with an even margin; got {size}", nameof(size));
        using var scope = torch.NewDisposeScope();
        var x = data.ImagesTensor() * 2 - 1; // (N, 1, 28, 28) in [−1, 1]
        var padded = nn.functional.pad(x, [padW / 2, padW / 2, padH / 2, padH / 2], value: -1.0);
        return padded.MoveToOuterDisposeScope();
    }

    /// <summary>One optimisation step on the next batch.</summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (the optimizer does not take the step).</exception>
    public VQVAEStep TrainStep()
    {
        using var scope = torch.NewDisposeScope();
        Model.train();
        var x = images.index_select(0, SeedMixer.BatchIndices(images.shape[0], Options.BatchSize, Options.Seed, Step));
        optimizer.zero_grad();
        var z = Model.Encode(x);
        // A NaN latent has no nearest code (the quantizer rejects it as bad input); in training it means the loss is NaN.
        if (!z.isfinite().all().item<bool>()) TrainingDivergedException.ThrowIfNotFinite(double.NaN, Step + 1, LastCheckpoint);
        var q = Model.Quantize(z);
        var decoded = Model.DecodeQuantized(q.Quantized);
        var reconstruction = nn.functional.mse_loss(decoded, x);
        var loss = reconstruction + q.Loss;
        double value = loss.item<float>();
        TrainingDivergedException.ThrowIfNotFinite(value, Step + 1, LastCheckpoint);
        loss.backward();
        optimizer.step();
        Step++;
        return new VQVAEStep(Step, value, reconstruction.item<float>(), q.Loss.item<float>(), q.Perplexity.item<float>(), q.Usage.item<float>());
    }

    /// <summary>Runs <paramref name="steps"/> more steps, reporting each.</summary>
    public void Train(long steps, Action<VQVAEStep>? progress = null, CancellationToken cancel = default)
    {
        for (long i = 0; i < steps; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var s = TrainStep();
            progress?.Invoke(s);
        }
    }

    /// <summary>Writes <c>checkpoint-{Step}</c> under <paramref name="checkpointRoot"/> atomically and prunes old checkpoints.</summary>
    /// <returns>The checkpoint folder.</returns>
    public string Save(string checkpointRoot)
    {
        LastCheckpoint = CheckpointFolders.Save(checkpointRoot, Step, Options.Seed, KeepCheckpoints,
            new JsonObject { ["options"] = JsonSerializer.SerializeToNode(Options, Json) }, temp =>
            {
                Model.SavePretrained(Path.Combine(temp, ModelFolder));
                AtomicFile.Write(Path.Combine(temp, OptimizerFile), s =>
                {
                    using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
                    optimizer.save_state_dict(w);
                });
                using var state = generator.get_state();
                StateDict.SaveSafetensors(new Dictionary<string, Tensor> { ["state"] = state }, Path.Combine(temp, GeneratorFile));
            });
        return LastCheckpoint;
    }

    /// <summary>Continues the run saved in <paramref name="path"/> (a checkpoint folder, or a root holding them: the newest
    /// complete one) on <paramref name="trainImages"/> (the same images, for an identical continuation).</summary>
    /// <param name="learningRate">Replaces the stored learning rate (e.g. after a divergence); null keeps it.</param>
    /// <exception cref="FileNotFoundException">No complete checkpoint, or a checkpoint file is missing (named in the message).</exception>
    /// <exception cref="InvalidDataException">trainer_state.json cannot be read.</exception>
    public static VQVAETrainer Resume(string path, Tensor trainImages, double? learningRate = null)
    {
        var (directory, options, step) = ReadState(path);
        if (learningRate is double lr) options = options with { LearningRate = lr };
        var genPath = Path.Combine(directory, GeneratorFile);
        var optPath = Path.Combine(directory, OptimizerFile);
        foreach (var required in new[] { genPath, optPath })
            if (!File.Exists(required)) throw new FileNotFoundException($"checkpoint file not found: {required}", required);
        var generator = new Generator((ulong)options.Seed);
        var model = VQModel.FromPretrained(Path.Combine(directory, ModelFolder), quantizer: options.Quantizer, generator: generator);
        // After building the model: its initialisation draws from the generator before the loaded weights replace it.
        var saved = StateDict.LoadSafetensors(genPath);
        generator.set_state(saved["state"]);
        foreach (var t in saved.Values) t.Dispose();
        try
        {
            CheckImages(trainImages, model.Config.InChannels, options.BatchSize);
            model.train();
            var trainer = new VQVAETrainer(model, generator, trainImages, options, step) { LastCheckpoint = directory };
            using (var stream = File.OpenRead(optPath))
            using (var r = new BinaryReader(stream))
                trainer.optimizer.load_state_dict(r);
            foreach (var group in trainer.optimizer.ParamGroups) group.LearningRate = options.LearningRate;
            return trainer;
        }
        catch
        {
            model.Dispose();
            generator.Dispose();
            throw;
        }
    }

    static (string Directory, VQVAETrainingOptions Options, long Step) ReadState(string path)
    {
        var (directory, state) = CheckpointFolders.Load(CheckpointFolders.Resolve(path));
        try
        {
            var options = state["options"].Deserialize<VQVAETrainingOptions>(Json)
                ?? throw new InvalidDataException($"{Path.Combine(directory, StateFile)}: no options");
            return (directory, options, CheckpointFolders.StepOf(state));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Path.Combine(directory, StateFile)}: {e.Message}", e);
        }
    }

    /// <summary>The model, options and step of a checkpoint folder, or of the newest one under a root (model in eval mode),
    /// e.g. to reconstruct with it.</summary>
    /// <exception cref="FileNotFoundException">No complete checkpoint, or trainer_state.json or the model is missing.</exception>
    /// <exception cref="InvalidDataException">trainer_state.json cannot be read.</exception>
    public static (VQModel Model, VQVAETrainingOptions Options, long Step) LoadModel(string path)
    {
        var (directory, options, step) = ReadState(path);
        return (VQModel.FromPretrained(Path.Combine(directory, ModelFolder), quantizer: options.Quantizer), options, step);
    }

    /// <summary>
    /// Test figures of <paramref name="model"/> (eval mode, no updates): MSE over the original pixels in [0, 1] units,
    /// and perplexity and code usage of the histogram over every latent position of the set.
    /// </summary>
    /// <param name="testImages">(N, C, H, W) in [−1, 1], padded by <paramref name="padding"/> on each side.</param>
    /// <param name="padding">Margin excluded from the MSE.</param>
    public static VQVAEEvaluation Evaluate(VQModel model, Tensor testImages, int padding = 0, int batchSize = 250)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(testImages);
        Shapes.RequireRank(testImages, 4, $"(N, {model.Config.InChannels}, H, W)", nameof(testImages));
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            long n = testImages.shape[0], h = testImages.shape[2], w = testImages.shape[3];
            var counts = zeros(model.Config.NumVqEmbeddings, dtype: ScalarType.Float64);
            double squared = 0;
            long pixels = 0;
            for (long start = 0; start < n; start += batchSize)
            {
                using var step = torch.NewDisposeScope();
                var x = testImages.narrow(0, start, Math.Min(batchSize, n - start));
                var q = model.Quantize(model.Encode(x));
                var decoded = model.DecodeQuantized(q.Quantized).clamp(-1, 1);
                // Back to [0, 1] and the original pixels: the padding is not part of the image.
                var diff = ((decoded - x) / 2).narrow(2, padding, h - 2 * padding).narrow(3, padding, w - 2 * padding);
                squared += diff.to(ScalarType.Float64).pow(2).sum().item<double>();
                pixels += diff.numel();
                counts.add_(bincount(q.Indices.flatten(), minlength: model.Config.NumVqEmbeddings).to(ScalarType.Float64));
            }
            var (perplexity, usage) = VectorQuantizer.Statistics(counts, (long)counts.sum().item<double>());
            return new VQVAEEvaluation(squared / pixels, perplexity.item<double>(), usage.item<double>(), (int)n);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        optimizer.Dispose();
        Model.Dispose();
        generator.Dispose();
    }
}
