using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Diffusion;
using SharpVision.Nn.Data;

namespace SharpVision.Experiments.ControlNet;

/// <summary>Options of <see cref="ControlNetExperiment"/>.</summary>
/// <param name="Steps">ControlNet training steps.</param>
/// <param name="Samples">Test edge maps the adherence evaluation generates from, per setting.</param>
/// <param name="Batch">Images per training step.</param>
public sealed record ControlNetExperimentOptions(int Steps = 300, int Samples = 48, int Batch = 48);

/// <summary>One setting of a <see cref="ControlNetResult"/>: the base model alone, or the ControlNet at one scale.</summary>
/// <param name="Setting">"base (no ControlNet)" or the ControlNet at its scale.</param>
/// <param name="Scale">Conditioning scale (0 for the base alone).</param>
/// <param name="EdgeIou">Exact-pixel IoU of the generated images' edges with the condition.</param>
/// <param name="EdgeF1">F1 of the edges within the tolerance.</param>
/// <param name="FdFmnist">FD-FMNIST against the real test images, or null when too few samples.</param>
/// <param name="SecondsPerSample">Sampling time per sample.</param>
public sealed record ControlNetSetting(string Setting, double Scale, double EdgeIou, double EdgeF1, double? FdFmnist, double SecondsPerSample);

/// <summary>What <see cref="ControlNetExperiment"/> measured and wrote. The JSON names (snake_case) are the report's.</summary>
/// <param name="ZeroConvIdentityBitEqual">Before training, the controlled prediction equals the base prediction bit for bit.</param>
/// <param name="TrainSteps">Training steps run.</param>
/// <param name="TrainSeconds">Training time.</param>
/// <param name="Conditions">Test edge maps per setting.</param>
/// <param name="Settings">The base model alone first, then one per conditioning scale.</param>
/// <param name="SamplingSteps">DDIM steps of the evaluation.</param>
/// <param name="Tolerance">Pixels within which an edge counts for F1.</param>
/// <param name="Scales">The conditioning scales evaluated.</param>
/// <param name="ControlNetFolder">The trained ControlNet (a diffusers folder).</param>
/// <param name="Evaluation">The adherence evaluation's files.</param>
public sealed record ControlNetResult(
    bool ZeroConvIdentityBitEqual, int TrainSteps, double TrainSeconds, int Conditions, IReadOnlyList<ControlNetSetting> Settings,
    [property: JsonIgnore] int SamplingSteps, [property: JsonIgnore] int Tolerance, [property: JsonIgnore] IReadOnlyList<double> Scales,
    [property: JsonIgnore] string ControlNetFolder, [property: JsonIgnore] ControlNetEvaluationPaths Evaluation) : IExperimentResult
{
    /// <summary>The base model alone.</summary>
    [JsonIgnore] public ControlNetSetting Base => Settings[0];

    /// <summary>The ControlNet at scale 1 (or the last scale when 1 was not evaluated).</summary>
    [JsonIgnore] public ControlNetSetting AtScaleOne => Settings.FirstOrDefault(r => r.Scale == 1.0) ?? Settings[^1];

    /// <inheritdoc/>
    [JsonIgnore] public IReadOnlyList<string> Files => [ControlNetFolder, .. Evaluation.Files];
}

/// <summary>
/// The ControlNet experiment: the zero-convolution identity on a fresh ControlNet, edge-map ControlNet training on a locked
/// diffusion model (<see cref="ControlNetTrainer"/>), and control adherence (<see cref="ControlNetEvaluation"/>) for the base
/// model alone and the ControlNet at scales 0.5, 1 and 1.5; training is the first 60 % of the reported progress.
/// </summary>
public static class ControlNetExperiment
{
    /// <summary>Runs the experiment on the diffusion model in <paramref name="baseModel"/>, writing every file into <paramref name="outDir"/>.</summary>
    /// <param name="baseModel">The locked UNet2DModel's folder (the diffusion experiment's EMA model).</param>
    /// <param name="schedulerFolder">Its scheduler folder.</param>
    /// <param name="classifier">The FD-FMNIST feature classifier.</param>
    public static ControlNetResult Run(LabeledImages train, LabeledImages test, string baseModel, string schedulerFolder, FeatureClassifier classifier,
        string outDir, ControlNetExperimentOptions options, IProgress<ExperimentProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Steps);
        Directory.CreateDirectory(outDir);
        using var unet = UNet2DModel.FromPretrained(baseModel);
        var schedulerConfig = DDPMSchedulerConfig.Load(Path.Combine(schedulerFolder, SchedulerConfigJson.FileName));
        var training = new ControlNetTrainingOptions(BatchSize: options.Batch, LearningRate: 1e-3, WarmupSteps: Math.Min(50, options.Steps / 10),
            CheckpointEvery: 0);
        using var images = FashionMnistDiffusionData.ToModelRange(train);
        using var labels = train.LabelsTensor();

        // The zero-convolution identity: a fresh ControlNet leaves the locked model's prediction bit for bit unchanged.
        bool identical;
        using var trainer = new ControlNetTrainer(unet, baseModel, schedulerConfig, training, images, labels);
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var probe = images.narrow(0, 0, Math.Min(8, (int)images.shape[0]));
            var noise = torch.randn(probe.shape, generator: new torch.Generator(7));
            var t = torch.full([probe.shape[0]], 500L, dtype: torch.ScalarType.Int64);
            var noisy = trainer.Scheduler.AddNoise(probe, noise, t);
            var cond = EdgeMaps.Condition(probe, trainer.ControlNet.controlnet_cond_embedding.DownsampleFactor, training.EdgeThreshold);
            var classes = labels.narrow(0, 0, probe.shape[0]);
            identical = trainer.ControlNet.Apply(unet, noisy, t, cond, classes).eq(unet.Forward(noisy, t, classes, null, null)).all().item<bool>();
        }

        int steps = options.Steps;
        var clock = Stopwatch.StartNew();
        trainer.Train(steps, progress: p =>
            progress?.Report(new(0.6 * p.Step / steps, string.Create(CultureInfo.InvariantCulture, $"training step {p.Step}/{steps} loss {p.Loss:F4}"))));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var controlNetFolder = Path.Combine(outDir, "controlnet");
        trainer.ControlNet.SavePretrained(controlNetFolder);
        trainer.ControlNet.eval();

        var evalOptions = new ControlNetEvaluationOptions(Samples: options.Samples, Steps: 50, BatchSize: Math.Min(64, options.Samples));
        using var evalScope = torch.NewDisposeScope();
        var subset = test.Slice(0, evalOptions.Samples);
        var testImages = FashionMnistDiffusionData.ToModelRange(subset);
        long[] testLabels = subset.Labels.Select(b => (long)b).ToArray();
        int settings = 1 + evalOptions.ConditioningScales.Count;
        var names = new List<string>();
        var report = ControlNetEvaluation.Run(unet, trainer.ControlNet, schedulerFolder, testImages, testLabels, classifier, test.ImagesTensor(), evalOptions,
            (name, done) =>
            {
                if (!names.Contains(name)) names.Add(name);
                progress?.Report(new(0.6 + 0.4 * ((names.Count - 1) + done / (double)evalOptions.Samples) / settings, $"sampling: {name}"));
            });
        var files = ControlNetEvaluationFiles.Write(report, evalOptions, classifier.TestAccuracy, outDir);
        var rows = report.Rows.Select(r => new ControlNetSetting(r.Setting, r.Scale, r.EdgeIou, r.EdgeF1, r.FdFmnist, r.SecondsPerSample)).ToList();
        return new ControlNetResult(identical, steps, trainSeconds, evalOptions.Samples, rows, evalOptions.Steps, evalOptions.Tolerance,
            evalOptions.ConditioningScales, controlNetFolder, files);
    }
}
