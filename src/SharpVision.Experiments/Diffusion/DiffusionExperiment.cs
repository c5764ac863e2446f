using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Data;

namespace SharpVision.Experiments.Diffusion;

/// <summary>Options of <see cref="DiffusionExperiment"/>: the DDPM training run and the sampler comparison after it.</summary>
public sealed record DiffusionExperimentOptions
{
    /// <summary>DDPM training steps.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Images per training step.</summary>
    public int Batch { get; init; } = 48;

    /// <summary>The UNet's widths, one level each (<see cref="FashionMnistDiffusionData.ModelConfig"/>).</summary>
    public IReadOnlyList<int> Channels { get; init; } = [16, 32, 32];

    /// <summary>Samples per sampler setting.</summary>
    public int Samples { get; init; } = 50;

    /// <summary>DDIM step counts (each at eta 0 and 1); the few-step solver runs at the same numbers of model calls.</summary>
    public IReadOnlyList<int> DdimSteps { get; init; } = [10, 20, 50];

    /// <summary>Steps of the DDPM run (the schedule's full length by default).</summary>
    public int DdpmSteps { get; init; } = 1000;

    /// <summary>Test images DDIM-inverted and rebuilt.</summary>
    public int InversionImages { get; init; } = 16;

    /// <summary>
    /// The few-step solver shown beside DDIM at the same numbers of model calls: UniPC bh2, the best deterministic solver
    /// at every budget of the README's solver study (FD-FMNIST 1.97 at 5 calls, 1.41 at 10, against DDIM's 4.65 and 2.79).
    /// </summary>
    public string FewStepSolver { get; init; } = "unipc";
}

/// <summary>One sampler setting of a <see cref="DiffusionResult"/>.</summary>
/// <param name="Sampler">"DDIM", "DDPM" or the solver with its model calls.</param>
/// <param name="Eta">DDIM eta (DDPM: 1).</param>
/// <param name="Steps">Denoising steps.</param>
/// <param name="FdFmnist">FD-FMNIST against the real test images.</param>
/// <param name="SecondsPerSample">Sampling time per sample.</param>
/// <param name="Family">The setting's line (<see cref="SamplerFamily"/>, or the solver's name).</param>
/// <param name="ModelCalls">UNet evaluations per sample.</param>
public sealed record DiffusionSetting(string Sampler, double Eta, int Steps, double FdFmnist, double SecondsPerSample,
    [property: JsonIgnore] string Family, [property: JsonIgnore] int ModelCalls);

/// <summary>What <see cref="DiffusionExperiment"/> measured and wrote. The JSON names (snake_case) are the report's.</summary>
/// <param name="TrainSteps">DDPM training steps run.</param>
/// <param name="Batch">Images per training step.</param>
/// <param name="TrainSeconds">Training time.</param>
/// <param name="Channels">The UNet's widths.</param>
/// <param name="SamplesPerSetting">Samples per sampler setting.</param>
/// <param name="Settings">One per sampler setting, in run order.</param>
/// <param name="RealVsReal">FD-FMNIST between two halves of the real test images (the sample-size floor).</param>
/// <param name="Eta0BitIdentical">DDIM eta 0 twice from the same noise gave bit-identical images.</param>
/// <param name="InversionRmsError">Mean RMS error of the DDIM inversion round trip, or null without one.</param>
/// <param name="InversionMaxAbsError">Largest absolute error of the round trip, or null.</param>
/// <param name="DdpmSteps">Steps of the DDPM sampling run.</param>
/// <param name="Findings">The determinism and inversion sentences.</param>
/// <param name="Model">The trained EMA UNet (a diffusers folder).</param>
/// <param name="Scheduler">The scheduler folder (scheduler_config.json).</param>
/// <param name="LossChart">The smoothed training loss (PNG).</param>
/// <param name="Evaluation">The sampler comparison's files.</param>
public sealed record DiffusionResult(
    int TrainSteps, int Batch, double TrainSeconds, IReadOnlyList<int> Channels, int SamplesPerSetting, IReadOnlyList<DiffusionSetting> Settings,
    double RealVsReal, [property: JsonPropertyName("eta0_bit_identical")] bool Eta0BitIdentical, double? InversionRmsError, double? InversionMaxAbsError,
    [property: JsonIgnore] int DdpmSteps, [property: JsonIgnore] IReadOnlyList<string> Findings,
    [property: JsonIgnore] string Model, [property: JsonIgnore] string Scheduler, [property: JsonIgnore] string LossChart,
    [property: JsonIgnore] DiffusionEvaluationPaths Evaluation) : IExperimentResult
{
    /// <inheritdoc/>
    [JsonIgnore] public IReadOnlyList<string> Files => [Model, Scheduler, LossChart, .. Evaluation.Files];
}

/// <summary>
/// The diffusion experiment: a class-conditional UNet trained with DDPM on Fashion-MNIST, then DDIM at eta 0 and 1, a
/// few-step solver at the same numbers of model calls and DDPM sampled from its EMA weights and compared with FD-FMNIST
/// (<see cref="DiffusionEvaluation"/>), with the eta 0 bit-identity check and a DDIM inversion round trip.
/// </summary>
public static class DiffusionExperiment
{
    /// <summary>Where <see cref="Run"/> saves the EMA model and the scheduler under <paramref name="outDir"/>.</summary>
    public static (string Model, string Scheduler) ModelFolders(string outDir) => (Path.Combine(outDir, "ema"), Path.Combine(outDir, "scheduler"));

    /// <summary>Trains, saves and evaluates the model, writing every file into <paramref name="outDir"/>; training is the first 60 % of
    /// the reported progress.</summary>
    /// <param name="classifier">The FD-FMNIST feature classifier (<see cref="CrossEntropyExperiment"/> saves one).</param>
    public static DiffusionResult Run(LabeledImages train, LabeledImages test, FeatureClassifier classifier, string outDir, DiffusionExperimentOptions options,
        IProgress<ExperimentProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Steps);
        Directory.CreateDirectory(outDir);
        int steps = options.Steps;
        using var images = FashionMnistDiffusionData.ToModelRange(train); // (N, 1, 32, 32) in [-1, 1]
        using var labels = train.LabelsTensor();
        var modelConfig = FashionMnistDiffusionData.ModelConfig(options.Channels, 1, classConditional: true);
        var training = new DiffusionTrainingOptions(BatchSize: options.Batch, LearningRate: 1e-3, WarmupSteps: Math.Min(100, steps / 10),
            EmaDecay: 0.995, CheckpointEvery: 0);
        using var trainer = new DiffusionTrainer(modelConfig, new DDPMSchedulerConfig { NumTrainTimesteps = 1000 }, training, images, labels);
        var losses = new List<(double Step, double Loss)>();
        double smoothed = double.NaN;
        var clock = Stopwatch.StartNew();
        trainer.Train(steps, progress: p =>
        {
            smoothed = double.IsNaN(smoothed) ? p.Loss : 0.97 * smoothed + 0.03 * p.Loss;
            losses.Add((p.Step, smoothed));
            progress?.Report(new(0.6 * p.Step / steps, string.Create(CultureInfo.InvariantCulture, $"training step {p.Step}/{steps} loss {smoothed:F4}")));
        });
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var (emaPath, schedulerPath) = ModelFolders(outDir);
        trainer.Ema.SavePretrained(emaPath);
        Directory.CreateDirectory(schedulerPath);
        trainer.Scheduler.Config.Save(Path.Combine(schedulerPath, SchedulerConfigJson.FileName));
        var lossChart = Path.Combine(outDir, "loss.png");
        Charts.Lines(lossChart, "DDPM training loss (epsilon MSE, smoothed)", "step", "loss",
            [new Series("loss", losses.Select(l => l.Step).ToArray(), losses.Select(l => l.Loss).ToArray())]);

        var evalOptions = new EvaluationOptions(Samples: options.Samples, DdimSteps: options.DdimSteps, DdpmSteps: options.DdpmSteps,
            BatchSize: Math.Min(100, options.Samples), InversionImages: options.InversionImages, InversionSteps: 50,
            Solvers: [options.FewStepSolver], SolverCalls: options.DdimSteps);
        using var scope = torch.NewDisposeScope();
        var real = test.ImagesTensor(); // (N, 1, 28, 28) in [0, 1]
        var invSubset = test.Slice(0, Math.Min(options.InversionImages, test.Count));
        var invImages = FashionMnistDiffusionData.ToModelRange(invSubset);
        var invLabels = invSubset.Labels.Select(b => (long)b).ToArray();
        double total = evalOptions.ProgressSteps, done = 0;
        var report = DiffusionEvaluation.Run(trainer.Ema, schedulerPath, classifier, real, invImages, invLabels, evalOptions, (name, _) =>
        {
            done++;
            progress?.Report(new(0.6 + 0.4 * done / total, $"sampling: {name}"));
        });
        var files = DiffusionEvaluationFiles.Write(report, classifier.TestAccuracy, evalOptions, outDir, invImages);
        var settings = report.Rows.Select(r => new DiffusionSetting(r.Sampler, r.Eta, r.Steps, r.FdFmnist, r.SecondsPerSample, r.Family, r.ModelCalls)).ToList();
        return new DiffusionResult(steps, training.BatchSize, trainSeconds, options.Channels, evalOptions.Samples, settings, report.RealVsReal,
            report.Deterministic, report.Inversion?.MeanRmsError, report.Inversion?.MaxAbsError, evalOptions.DdpmSteps,
            DiffusionEvaluationFiles.Findings(report, evalOptions), emaPath, schedulerPath, lossChart, files);
    }
}
