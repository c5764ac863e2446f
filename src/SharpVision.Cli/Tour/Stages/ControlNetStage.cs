using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.ControlNet;
using SharpVision.Experiments.Diffusion;
using TorchSharp;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 5: an edge-map ControlNet on the diffusion section's locked model.</summary>
public sealed class ControlNetStage : TourStage
{
    public override string Id => "controlnet";
    public override string Title => "ControlNet: edge maps steer a locked diffusion model";
    public override IReadOnlyList<string> Requires => [CrossEntropyStage.StageId, DiffusionStage.StageId];
    public override double ExpectedSeconds => 120;

    public override StageResult Run(TourContext context)
    {
        var dir = context.StageDir(Id);
        var budget = context.Budget;
        var (basePath, schedulerPath) = DiffusionStage.ModelPaths(context.OutDir);
        using var unet = UNet2DModel.FromPretrained(basePath);
        var schedulerConfig = DDPMSchedulerConfig.Load(Path.Combine(schedulerPath, "scheduler_config.json"));
        var options = new ControlNetTrainingOptions(BatchSize: budget.DiffusionBatch, LearningRate: 1e-3, WarmupSteps: Math.Min(50, budget.ControlNetSteps / 10),
            CheckpointEvery: 0);
        using var images = FashionMnistDiffusionData.ToModelRange(context.Train);
        using var labels = context.Train.LabelsTensor();

        // The zero-convolution identity: a fresh ControlNet leaves the locked model's prediction bit for bit unchanged.
        bool identical;
        using var trainer = new ControlNetTrainer(unet, basePath, schedulerConfig, options, images, labels);
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var probe = images.narrow(0, 0, Math.Min(8, (int)images.shape[0]));
            var noise = torch.randn(probe.shape, generator: new torch.Generator(7));
            var t = torch.full([probe.shape[0]], 500L, dtype: torch.ScalarType.Int64);
            var noisy = trainer.Scheduler.AddNoise(probe, noise, t);
            var cond = EdgeMaps.Condition(probe, trainer.ControlNet.controlnet_cond_embedding.DownsampleFactor, options.EdgeThreshold);
            var classes = labels.narrow(0, 0, probe.shape[0]);
            identical = trainer.ControlNet.Apply(unet, noisy, t, cond, classes).eq(unet.Forward(noisy, t, classes, null, null)).all().item<bool>();
        }

        int steps = budget.ControlNetSteps;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        trainer.Train(steps, progress: p =>
            context.Progress(0.6 * p.Step / steps, string.Create(CultureInfo.InvariantCulture, $"training step {p.Step}/{steps} loss {p.Loss:F4}")));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        trainer.ControlNet.SavePretrained(Path.Combine(dir, "controlnet"));
        trainer.ControlNet.eval();

        var classifierDir = CrossEntropyStage.ClassifierPath(context.OutDir);
        using var classifier = FeatureClassifier.Load(classifierDir);
        var evalOptions = new ControlNetEvaluationOptions(Samples: budget.ControlNetSamples, Steps: 50, BatchSize: Math.Min(64, budget.ControlNetSamples));
        using var evalScope = torch.NewDisposeScope();
        var subset = context.Test.Slice(0, evalOptions.Samples);
        var testImages = FashionMnistDiffusionData.ToModelRange(subset);
        long[] testLabels = subset.Labels.Select(b => (long)b).ToArray();
        int settings = 1 + evalOptions.ConditioningScales.Count;
        var names = new List<string>();
        var report = ControlNetEvaluation.Run(unet, trainer.ControlNet, schedulerPath, testImages, testLabels, classifier, context.Test.ImagesTensor(), evalOptions,
            (name, done) =>
            {
                if (!names.Contains(name)) names.Add(name);
                context.Progress(0.6 + 0.4 * ((names.Count - 1) + done / (double)evalOptions.Samples) / settings, $"sampling: {name}");
            });
        ControlNetEvaluationFiles.Write(report, evalOptions, classifier.TestAccuracy, dir);

        var inv = CultureInfo.InvariantCulture;
        var baseRow = report.Rows[0];
        var one = report.Rows.FirstOrDefault(r => r.Scale == 1.0) ?? report.Rows[^1];
        return new StageResult
        {
            Id = Id, Title = Title, Budget = budget.Name,
            Claim = "ControlNet locks the base model, trains a copy of its encoder on the new condition, and joins the two through 1×1 convolutions initialised to zero, so before training the ControlNet changes nothing and fine-tuning starts exactly from the base model's behaviour.",
            Measured = string.Create(inv, $"Before training the controlled prediction {(identical ? "equals" : "does NOT equal")} the base prediction bit for bit. After {steps:N0} steps ({trainSeconds:F0} s) on Sobel edge maps, the edges of generated images match the condition with F1 {one.EdgeF1:F2} at scale {one.Scale:0.#} against {baseRow.EdgeF1:F2} for the base model alone (IoU {one.EdgeIou:F2} against {baseRow.EdgeIou:F2}; {evalOptions.Samples} conditions)."),
            Figures = new JsonObject
            {
                ["zero_conv_identity_bit_equal"] = identical, ["train_steps"] = steps, ["train_seconds"] = trainSeconds, ["conditions"] = evalOptions.Samples,
                ["settings"] = new JsonArray(report.Rows.Select(r => (JsonNode?)new JsonObject
                {
                    ["setting"] = r.Setting, ["scale"] = r.Scale, ["edge_iou"] = r.EdgeIou, ["edge_f1"] = r.EdgeF1, ["fd_fmnist"] = r.FdFmnist,
                    ["seconds_per_sample"] = r.SecondsPerSample,
                }).ToArray()),
            },
            Tables = [new ReportTable(string.Create(inv, $"Control adherence on {evalOptions.Samples} test edge maps (DDIM {evalOptions.Steps} steps, same noise for every row; F1 counts edges within {evalOptions.Tolerance} px)"),
                ["setting", "edge IoU", $"edge F1 (±{evalOptions.Tolerance} px)", "FD-FMNIST", "ms / sample"],
                report.Rows.Select(r => new[]
                {
                    r.Setting, r.EdgeIou.ToString("F3", inv), r.EdgeF1.ToString("F3", inv), r.FdFmnist?.ToString("F2", inv) ?? "", (r.SecondsPerSample * 1000).ToString("F1", inv),
                }).ToList())],
            Images = [new ReportImage(TourContext.Relative(Id, "grid.png"),
                "Rows: test image, its edge map (the condition), the base model's sample, then the controlled samples at scales " +
                string.Join(", ", evalOptions.ConditioningScales.Select(s => s.ToString("0.#", inv))) + " (same noise and class in each column)")],
        };
    }
}
