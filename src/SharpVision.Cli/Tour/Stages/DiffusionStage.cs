using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Diffusion;
using SharpVision.Experiments.Output;
using TorchSharp;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 4: DDPM training on Fashion-MNIST, then DDIM (eta 0 and 1) against DDPM sampling from the same model.</summary>
public sealed class DiffusionStage : TourStage
{
    public const string StageId = "diffusion";
    public override string Id => StageId;
    public override string Title => "DDPM training and DDIM sampling";

    /// <summary>
    /// The few-step solver shown beside DDIM at the same numbers of model calls: UniPC bh2, the best deterministic solver
    /// at every budget of the README's solver study (FD-FMNIST 1.97 at 5 calls, 1.41 at 10, against DDIM's 4.65 and 2.79).
    /// </summary>
    public const string FewStepSolver = "unipc";
    public override IReadOnlyList<string> Requires => [CrossEntropyStage.StageId];
    public override double ExpectedSeconds => 430;

    /// <summary>The trained EMA model and its scheduler, for the ControlNet section.</summary>
    public static (string Model, string Scheduler) ModelPaths(string outDir) =>
        (Path.Combine(outDir, StageId, "ema"), Path.Combine(outDir, StageId, "scheduler"));

    public override StageResult Run(TourContext context)
    {
        var dir = context.StageDir(Id);
        var budget = context.Budget;
        int steps = budget.DiffusionSteps;
        using var images = FashionMnistDiffusionData.ToModelRange(context.Train); // (N, 1, 32, 32) in [-1, 1]
        using var labels = context.Train.LabelsTensor();
        var modelConfig = FashionMnistDiffusionData.ModelConfig(budget.DiffusionChannels, 1, classConditional: true);
        var options = new DiffusionTrainingOptions(BatchSize: budget.DiffusionBatch, LearningRate: 1e-3, WarmupSteps: Math.Min(100, steps / 10),
            EmaDecay: 0.995, CheckpointEvery: 0);
        using var trainer = new DiffusionTrainer(modelConfig, new DDPMSchedulerConfig { NumTrainTimesteps = 1000 }, options, images, labels);
        var losses = new List<(double Step, double Loss)>();
        double smoothed = double.NaN;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // training is the first 60% of the section's time, sampling the rest
        trainer.Train(steps, progress: p =>
        {
            smoothed = double.IsNaN(smoothed) ? p.Loss : 0.97 * smoothed + 0.03 * p.Loss;
            losses.Add((p.Step, smoothed));
            context.Progress(0.6 * p.Step / steps, string.Create(CultureInfo.InvariantCulture, $"training step {p.Step}/{steps} loss {smoothed:F4}"));
        });
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var (emaPath, schedulerPath) = ModelPaths(context.OutDir);
        trainer.Ema.SavePretrained(emaPath);
        Directory.CreateDirectory(schedulerPath);
        trainer.Scheduler.Config.Save(Path.Combine(schedulerPath, "scheduler_config.json"));
        Charts.Lines(Path.Combine(dir, "loss.png"), "DDPM training loss (epsilon MSE, smoothed)", "step", "loss",
            [new Series("loss", losses.Select(l => l.Step).ToArray(), losses.Select(l => l.Loss).ToArray())]);

        var classifierDir = CrossEntropyStage.ClassifierPath(context.OutDir);
        using var classifier = FeatureClassifier.Exists(classifierDir) ? FeatureClassifier.Load(classifierDir)
            : throw new InvalidOperationException($"the diffusion section needs the cross-entropy section's classifier in {classifierDir}");
        var evalOptions = new EvaluationOptions(Samples: budget.SamplerSamples, DdimSteps: budget.DdimSteps, DdpmSteps: budget.DdpmSteps,
            BatchSize: Math.Min(100, budget.SamplerSamples), InversionImages: budget.InversionImages, InversionSteps: 50,
            Solvers: [FewStepSolver], SolverCalls: budget.DdimSteps);
        using var scope = torch.NewDisposeScope();
        var real = context.Test.ImagesTensor(); // (N, 1, 28, 28) in [0, 1]
        var invSubset = context.Test.Slice(0, Math.Min(budget.InversionImages, context.Test.Count));
        var invImages = FashionMnistDiffusionData.ToModelRange(invSubset);
        var invLabels = invSubset.Labels.Select(b => (long)b).ToArray();
        int batches = (int)Math.Ceiling(evalOptions.Samples / (double)evalOptions.BatchSize);
        double totalSteps = batches * (2.0 * evalOptions.Steps.Sum() + evalOptions.Calls.Sum() + evalOptions.DdpmSteps) + 1, doneSteps = 0;
        var report = DiffusionEvaluation.Run(trainer.Ema, schedulerPath, classifier, real, invImages, invLabels, evalOptions, (name, _) =>
        {
            doneSteps++;
            context.Progress(0.6 + 0.4 * doneSteps / totalSteps, $"sampling: {name}");
        });
        DiffusionEvaluationFiles.Write(report, classifier.TestAccuracy, evalOptions, dir, invImages);

        var inv = CultureInfo.InvariantCulture;
        var ddpm = report.Rows.FirstOrDefault(r => r.Family == SamplerFamily.Ddpm);
        var ddim = report.Rows.Where(r => r.Family == SamplerFamily.Ddim(0)).ToList();
        var bestDdim = ddim.MinBy(r => r.FdFmnist);
        var rows = report.Rows.Select(r => new[]
        {
            r.Sampler, r.Eta.ToString("0", inv), r.Steps.ToString(inv), r.FdFmnist.ToString("F2", inv), (r.SecondsPerSample * 1000).ToString("F1", inv),
        }).Append(["real vs real (two halves of the test images)", "", "", report.RealVsReal.ToString("F2", inv), ""]).ToList();
        var findings = DiffusionEvaluationFiles.Findings(report, evalOptions);
        string Row(double eta) => string.Join(", ", report.Rows.Where(r => r.Family == SamplerFamily.Ddim(eta))
            .Select(r => string.Create(inv, $"{r.Steps} steps {r.FdFmnist:F1}")));
        var measured = string.Create(inv, $"Trained {steps:N0} steps (batch {options.BatchSize}) in {trainSeconds:F0} s. FD-FMNIST on {evalOptions.Samples} samples per setting (lower is better; real vs real {report.RealVsReal:F2}): DDIM eta 0 at {Row(0)}; DDIM eta 1 at {Row(1)}")
            + (ddpm is null ? "" : string.Create(inv, $"; DDPM {ddpm.Steps} steps {ddpm.FdFmnist:F1}, {ddpm.SecondsPerSample / (bestDdim?.SecondsPerSample ?? double.NaN):F0}× the time per sample of the best DDIM eta 0 setting ({bestDdim?.Steps} steps)"))
            + string.Create(inv, $"; {FewStepSolver} (UniPC bh2) at the same numbers of model calls: {string.Join(", ", report.Rows.Where(r => r.Family == FewStepSolver).Select(r => $"{r.ModelCalls} calls {r.FdFmnist:F1}"))}")
            + ". " + string.Join(" ", findings);
        var settings = new JsonArray(report.Rows.Select(r => (JsonNode?)new JsonObject
        {
            ["sampler"] = r.Sampler, ["eta"] = r.Eta, ["steps"] = r.Steps, ["fd_fmnist"] = r.FdFmnist, ["seconds_per_sample"] = r.SecondsPerSample,
        }).ToArray());
        return new StageResult
        {
            Id = Id, Title = Title, Budget = budget.Name,
            Claim = "DDPM trains a network to predict the noise added to an image; DDIM samples from the same trained network with a non-Markovian, deterministic (eta = 0) process that needs far fewer steps than DDPM's 1000, and can be run backwards (inversion).",
            Measured = measured,
            Figures = new JsonObject
            {
                ["train_steps"] = steps, ["batch"] = options.BatchSize, ["train_seconds"] = trainSeconds,
                ["channels"] = new JsonArray(budget.DiffusionChannels.Select(c => (JsonNode?)c).ToArray()),
                ["samples_per_setting"] = evalOptions.Samples, ["settings"] = settings, ["real_vs_real"] = report.RealVsReal,
                ["eta0_bit_identical"] = report.Deterministic,
                ["inversion_rms_error"] = report.Inversion?.MeanRmsError, ["inversion_max_abs_error"] = report.Inversion?.MaxAbsError,
            },
            Tables = [new ReportTable("Sampler comparison: FD-FMNIST (Fréchet distance on this project's classifier features; not Inception FID) and time per sample",
                ["sampler", "eta", "steps", "FD-FMNIST", "ms / sample"], rows)],
            Images =
            [
                new ReportImage(TourContext.Relative(Id, "samples.png"), "Samples, one column per setting in table order (same class per row)"),
                new ReportImage(TourContext.Relative(Id, "inversion.png"), "DDIM inversion: test images, their inverted latents, and the images regenerated from them"),
                new ReportImage(TourContext.Relative(Id, "loss.png"), "Training loss"),
            ],
            Notes = [string.Create(inv, $"DDPM ran {evalOptions.DdpmSteps} steps, the schedule's full length.")],
        };
    }
}
