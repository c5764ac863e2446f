using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;
using SharpVision.Segmentation.Sam;

namespace SharpVision.Experiments.Sam;

/// <summary>Options of <see cref="SamExperiment"/>.</summary>
/// <param name="Steps">Training steps (4 scenes each).</param>
/// <param name="Scenes">Held-out scenes scored per prompt type.</param>
/// <param name="Threads">libtorch threads while it runs (this model is small: one thread measured faster; see <c>sharpvision sam train --threads</c>).</param>
public sealed record SamExperimentOptions(int Steps = 1500, int Scenes = 100, int Threads = 1);

/// <summary>What <see cref="SamExperiment"/> measured and wrote. The JSON names (snake_case) are the report's.</summary>
/// <param name="TrainSteps">Training steps run.</param>
/// <param name="TrainSeconds">Training time.</param>
/// <param name="Parameters">The model's parameter count.</param>
/// <param name="HeldOutScenes">Held-out scenes scored.</param>
/// <param name="HeldOutObjects">Objects in them.</param>
/// <param name="MeanIou">Mean IoU per prompt type (by <see cref="SamEvaluation.Name"/>).</param>
/// <param name="IouAbove05">Fraction of masks with IoU above 0.5, per prompt type.</param>
/// <param name="PredictedVsActualIouR">Correlation of the IoU head's prediction with the actual IoU, or null when undefined.</param>
/// <param name="Scores">Every prompt type's scores, in evaluation order.</param>
/// <param name="Checkpoints">The trainer's checkpoint folder.</param>
/// <param name="ExamplesPicture">Held-out scenes with their prompts and masks (PNG).</param>
/// <param name="IouChart">Predicted against actual IoU (PNG).</param>
public sealed record SamResult(
    int TrainSteps, double TrainSeconds, long Parameters, int HeldOutScenes, int HeldOutObjects,
    IReadOnlyDictionary<string, double> MeanIou, [property: JsonPropertyName("iou_above_0_5")] IReadOnlyDictionary<string, double> IouAbove05,
    [property: JsonPropertyName("predicted_vs_actual_iou_r")] double? PredictedVsActualIouR,
    [property: JsonIgnore] IReadOnlyList<SettingScore> Scores,
    [property: JsonIgnore] string Checkpoints, [property: JsonIgnore] string ExamplesPicture, [property: JsonIgnore] string IouChart) : IExperimentResult
{
    /// <summary>The scores of one prompt type.</summary>
    public SettingScore Score(PromptSetting setting) => Scores.Single(s => s.Setting == setting);

    /// <inheritdoc/>
    [JsonIgnore] public IReadOnlyList<string> Files => [Checkpoints, ExamplesPicture, IouChart];
}

/// <summary>
/// The SAM experiment: a small Segment Anything (<see cref="SamTrainingOptions.DefaultModel"/>) trained by <see cref="SamTrainer"/>
/// on synthetic Fashion-MNIST scenes, then scored on held-out scenes per prompt type (<see cref="SamEvaluator"/>); training is
/// the first 85 % of the reported progress.
/// </summary>
public static class SamExperiment
{
    /// <summary>Trains, saves and evaluates the model, writing every file into <paramref name="outDir"/>.</summary>
    public static SamResult Run(LabeledImages train, LabeledImages test, string outDir, SamExperimentOptions options, IProgress<ExperimentProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Scenes);
        Directory.CreateDirectory(outDir);
        int threads = torch.get_num_threads();
        torch.set_num_threads(options.Threads);
        try
        {
            var config = SamTrainingOptions.DefaultModel;
            using var model = SamModel.Build(config);
            SeededInit.Apply(model, 0, redrawOthers: true);
            SceneOptions Scenes(int seed) => new()
            {
                CanvasSize = config.ImageSize, Seed = seed, MaxItemSize = Math.Min(40, config.ImageSize), MinItemSize = Math.Min(20, config.ImageSize),
            };
            var training = new SamTrainingOptions { BatchScenes = 4, LearningRate = 1e-3, CorrectionRounds = 1, Seed = 0 };
            using var trainer = new SamTrainer(model, new FashionMnistScenes(train, Scenes(0)), training);
            int steps = options.Steps;
            double smoothed = double.NaN;
            var clock = Stopwatch.StartNew();
            while (trainer.Step < steps)
            {
                var r = trainer.TrainStep();
                smoothed = double.IsNaN(smoothed) ? r.Loss : 0.95 * smoothed + 0.05 * r.Loss;
                progress?.Report(new(0.85 * trainer.Step / steps, string.Create(CultureInfo.InvariantCulture, $"training step {trainer.Step}/{steps} loss {smoothed:F3}")));
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            var checkpoints = Path.Combine(outDir, "checkpoints");
            trainer.SaveCheckpoint(checkpoints);

            const int promptSeed = 1001;
            var heldOut = new FashionMnistScenes(test, Scenes(promptSeed));
            int count = options.Scenes;
            var eval = SamEvaluator.Evaluate(model, heldOut, count, promptSeed: promptSeed, exampleScenes: count,
                progress: done => progress?.Report(new(0.85 + 0.15 * done / count, $"evaluating scene {done}/{count}")));
            int pictured = Math.Min(4, count);
            var examples = Path.Combine(outDir, "examples.png");
            SamExamplePicture.Save(Enumerable.Range(0, pictured).Select(i => heldOut.Generate(i)).ToList(),
                eval.Examples.Where(e => e.SceneIndex < pictured).ToList(), examples);
            var iouChart = Path.Combine(outDir, "iou.png");
            Charts.Scatter(iouChart, "IoU head: predicted against actual IoU (held-out objects)", "actual IoU", "predicted IoU",
                Enum.GetValues<PromptSetting>().Select(s => new Series(SamEvaluation.Name(s),
                    eval.Examples.Where(e => e.Setting == s).Select(e => e.Iou).ToArray(),
                    eval.Examples.Where(e => e.Setting == s).Select(e => e.PredictedIou).ToArray())).ToList(), diagonal: true);

            long parameters = model.parameters().Sum(p => p.numel());
            return new SamResult(steps, trainSeconds, parameters, eval.Scenes, eval.Objects,
                eval.Settings.ToDictionary(s => SamEvaluation.Name(s.Setting), s => s.MeanIou),
                eval.Settings.ToDictionary(s => SamEvaluation.Name(s.Setting), s => s.Above50),
                double.IsNaN(eval.OverallIouCorrelation) ? null : eval.OverallIouCorrelation, eval.Settings, checkpoints, examples, iouChart);
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }
}
