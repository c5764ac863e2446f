using System.Globalization;
using SharpVision.Experiments.Sam;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 6: a small Segment Anything trained on synthetic Fashion-MNIST scenes and scored per prompt type
/// (<see cref="SamExperiment"/>).</summary>
public sealed class SamStage : TourStage
{
    public override string Id => "sam";
    public override string Title => "Segment Anything: prompts, masks and the IoU head";
    public override double ExpectedSeconds => 175;

    public override StageResult Run(TourContext context)
    {
        var result = SamExperiment.Run(context.Train, context.Test, context.StageDir(Id), context.Budget.Sam, context.Progress());
        var inv = CultureInfo.InvariantCulture;
        var rows = result.Scores.Select(s => new[]
        {
            SamEvaluation.Name(s.Setting), s.Objects.ToString(inv), s.MeanIou.ToString("F3", inv), s.Above50.ToString("P1", inv),
            s.Above75.ToString("P1", inv), s.IouCorrelation.ToString("F3", inv),
        }).ToList();
        var point = result.Score(PromptSetting.OnePoint);
        var box = result.Score(PromptSetting.OneBox);
        var clicks = result.Score(PromptSetting.PointAndTwoClicks);
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "SAM encodes the image once with a ViT, encodes points and boxes as prompt tokens, and a two-way-transformer decoder with hypernetwork MLPs turns them into masks, with an IoU head that predicts each mask's quality.",
            Measured = string.Create(inv, $"A {result.Parameters:N0}-parameter SAM trained for {result.TrainSteps:N0} steps ({result.TrainSeconds:F0} s) on synthetic scenes reaches mean IoU {point.MeanIou:F2} from one point, {box.MeanIou:F2} from a box and {clicks.MeanIou:F2} after two correction clicks on {result.HeldOutObjects} held-out objects; predicted and actual IoU correlate at r = {result.PredictedVsActualIouR ?? double.NaN:F2}."),
            Figures = StageResult.FiguresOf(result),
            Tables = [new ReportTable("Held-out scenes, per prompt type", ["prompt", "objects", "mean IoU", "IoU > 0.5", "IoU > 0.75", "r(predicted IoU, IoU)"], rows)],
            Images =
            [
                new ReportImage(context.ReportPath(result.ExamplesPicture), "Held-out scenes: image, ground truth, then masks from 1 point, 1 box, and 1 point + 2 correction clicks (green: positive click, red: negative, yellow: box)"),
                new ReportImage(context.ReportPath(result.IouChart), "The IoU head's prediction against the mask's actual IoU, per object"),
            ],
        };
    }
}
