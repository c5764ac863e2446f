using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Experiments.Output;
using SharpVision.Experiments.Sam;
using SharpVision.Nn.Training;
using SharpVision.Segmentation.Sam;
using TorchSharp;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 6: a small Segment Anything trained on synthetic Fashion-MNIST scenes and scored per prompt type.</summary>
public sealed class SamStage : TourStage
{
    public override string Id => "sam";
    public override string Title => "Segment Anything: prompts, masks and the IoU head";
    public override double ExpectedSeconds => 175;

    public override StageResult Run(TourContext context)
    {
        var dir = context.StageDir(Id);
        var budget = context.Budget;
        int threads = torch.get_num_threads();
        torch.set_num_threads(1); // this model is small: one thread measured faster (see `sharpvision sam train --threads`)
        try
        {
            var config = SamTrainingOptions.DefaultModel;
            using var model = SamModel.Build(config);
            SeededInit.Apply(model, 0, redrawOthers: true);
            SceneOptions Scenes(int seed) => new()
            {
                CanvasSize = config.ImageSize, Seed = seed, MaxItemSize = Math.Min(40, config.ImageSize), MinItemSize = Math.Min(20, config.ImageSize),
            };
            var options = new SamTrainingOptions { BatchScenes = 4, LearningRate = 1e-3, CorrectionRounds = 1, Seed = 0 };
            using var trainer = new SamTrainer(model, new FashionMnistScenes(context.Train, Scenes(0)), options);
            int steps = budget.SamSteps;
            double smoothed = double.NaN;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (trainer.Step < steps)
            {
                var r = trainer.TrainStep();
                smoothed = double.IsNaN(smoothed) ? r.Loss : 0.95 * smoothed + 0.05 * r.Loss;
                context.Progress(0.85 * trainer.Step / steps, string.Create(CultureInfo.InvariantCulture, $"training step {trainer.Step}/{steps} loss {smoothed:F3}"));
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            trainer.SaveCheckpoint(Path.Combine(dir, "checkpoints"));

            const int promptSeed = 1001;
            var heldOut = new FashionMnistScenes(context.Test, Scenes(promptSeed));
            int count = budget.SamScenes;
            var eval = SamEvaluator.Evaluate(model, heldOut, count, promptSeed: promptSeed, exampleScenes: count,
                progress: done => context.Progress(0.85 + 0.15 * done / count, $"evaluating scene {done}/{count}"));
            int pictured = Math.Min(4, count);
            SamExamplePicture.Save(Enumerable.Range(0, pictured).Select(i => heldOut.Generate(i)).ToList(),
                eval.Examples.Where(e => e.SceneIndex < pictured).ToList(), Path.Combine(dir, "examples.png"));
            Charts.Scatter(Path.Combine(dir, "iou.png"), "IoU head: predicted against actual IoU (held-out objects)", "actual IoU", "predicted IoU",
                Enum.GetValues<PromptSetting>().Select(s => new Series(SamEvaluation.Name(s),
                    eval.Examples.Where(e => e.Setting == s).Select(e => e.Iou).ToArray(),
                    eval.Examples.Where(e => e.Setting == s).Select(e => e.PredictedIou).ToArray())).ToList(), diagonal: true);

            var inv = CultureInfo.InvariantCulture;
            var rows = eval.Settings.Select(s => new[]
            {
                SamEvaluation.Name(s.Setting), s.Objects.ToString(inv), s.MeanIou.ToString("F3", inv), s.Above50.ToString("P1", inv),
                s.Above75.ToString("P1", inv), s.IouCorrelation.ToString("F3", inv),
            }).ToList();
            var point = eval.Settings.Single(s => s.Setting == PromptSetting.OnePoint);
            var box = eval.Settings.Single(s => s.Setting == PromptSetting.OneBox);
            var clicks = eval.Settings.Single(s => s.Setting == PromptSetting.PointAndTwoClicks);
            long parameters = model.parameters().Sum(p => p.numel());
            return new StageResult
            {
                Id = Id, Title = Title, Budget = budget.Name,
                Claim = "SAM encodes the image once with a ViT, encodes points and boxes as prompt tokens, and a two-way-transformer decoder with hypernetwork MLPs turns them into masks, with an IoU head that predicts each mask's quality.",
                Measured = string.Create(inv, $"A {parameters:N0}-parameter SAM trained for {steps:N0} steps ({trainSeconds:F0} s) on synthetic scenes reaches mean IoU {point.MeanIou:F2} from one point, {box.MeanIou:F2} from a box and {clicks.MeanIou:F2} after two correction clicks on {eval.Objects} held-out objects; predicted and actual IoU correlate at r = {eval.OverallIouCorrelation:F2}."),
                Figures = new JsonObject
                {
                    ["train_steps"] = steps, ["train_seconds"] = trainSeconds, ["parameters"] = parameters,
                    ["held_out_scenes"] = eval.Scenes, ["held_out_objects"] = eval.Objects,
                    ["mean_iou"] = new JsonObject(eval.Settings.Select(s => KeyValuePair.Create(SamEvaluation.Name(s.Setting), (JsonNode?)s.MeanIou))),
                    ["iou_above_0_5"] = new JsonObject(eval.Settings.Select(s => KeyValuePair.Create(SamEvaluation.Name(s.Setting), (JsonNode?)s.Above50))),
                    ["predicted_vs_actual_iou_r"] = double.IsNaN(eval.OverallIouCorrelation) ? null : eval.OverallIouCorrelation,
                },
                Tables = [new ReportTable("Held-out scenes, per prompt type", ["prompt", "objects", "mean IoU", "IoU > 0.5", "IoU > 0.75", "r(predicted IoU, IoU)"], rows)],
                Images =
                [
                    new ReportImage(TourContext.Relative(Id, "examples.png"), "Held-out scenes: image, ground truth, then masks from 1 point, 1 box, and 1 point + 2 correction clicks (green: positive click, red: negative, yellow: box)"),
                    new ReportImage(TourContext.Relative(Id, "iou.png"), "The IoU head's prediction against the mask's actual IoU, per object"),
                ],
            };
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }
}
