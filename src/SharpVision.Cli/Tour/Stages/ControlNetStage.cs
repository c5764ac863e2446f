using System.Globalization;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.ControlNet;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 5: an edge-map ControlNet on the diffusion section's locked model (<see cref="ControlNetExperiment"/>).</summary>
public sealed class ControlNetStage : TourStage
{
    public override string Id => "controlnet";
    public override string Title => "ControlNet: edge maps steer a locked diffusion model";
    public override IReadOnlyList<string> Requires => [CrossEntropyStage.StageId, DiffusionStage.StageId];
    public override double ExpectedSeconds => 120;

    public override StageResult Run(TourContext context)
    {
        var (basePath, schedulerPath) = DiffusionStage.ModelPaths(context.OutDir);
        using var classifier = FeatureClassifier.Load(CrossEntropyStage.ClassifierPath(context.OutDir));
        var result = ControlNetExperiment.Run(context.Train, context.Test, basePath, schedulerPath, classifier, context.StageDir(Id),
            context.Budget.ControlNet, context.Progress());

        var inv = CultureInfo.InvariantCulture;
        var baseRow = result.Base;
        var one = result.AtScaleOne;
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "ControlNet locks the base model, trains a copy of its encoder on the new condition, and joins the two through 1×1 convolutions initialised to zero, so before training the ControlNet changes nothing and fine-tuning starts exactly from the base model's behaviour.",
            Measured = string.Create(inv, $"Before training the controlled prediction {(result.ZeroConvIdentityBitEqual ? "equals" : "does NOT equal")} the base prediction bit for bit. After {result.TrainSteps:N0} steps ({result.TrainSeconds:F0} s) on Sobel edge maps, the edges of generated images match the condition with F1 {one.EdgeF1:F2} at scale {one.Scale:0.#} against {baseRow.EdgeF1:F2} for the base model alone (IoU {one.EdgeIou:F2} against {baseRow.EdgeIou:F2}; {result.Conditions} conditions)."),
            Figures = StageResult.FiguresOf(result),
            Tables = [new ReportTable(string.Create(inv, $"Control adherence on {result.Conditions} test edge maps (DDIM {result.SamplingSteps} steps, same noise for every row; F1 counts edges within {result.Tolerance} px)"),
                ["setting", "edge IoU", $"edge F1 (±{result.Tolerance} px)", "FD-FMNIST", "ms / sample"],
                result.Settings.Select(r => new[]
                {
                    r.Setting, r.EdgeIou.ToString("F3", inv), r.EdgeF1.ToString("F3", inv), r.FdFmnist?.ToString("F2", inv) ?? "", (r.SecondsPerSample * 1000).ToString("F1", inv),
                }).ToList())],
            Images = [new ReportImage(context.ReportPath(result.Evaluation.Grid),
                "Rows: test image, its edge map (the condition), the base model's sample, then the controlled samples at scales " +
                string.Join(", ", result.Scales.Select(s => s.ToString("0.#", inv))) + " (same noise and class in each column)")],
        };
    }
}
