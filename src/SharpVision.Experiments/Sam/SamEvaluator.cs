using System.Globalization;
using System.Text;
using SharpVision.Segmentation.Sam;
using static TorchSharp.torch;

namespace SharpVision.Experiments.Sam;

/// <summary>The prompt settings <see cref="SamEvaluator"/> measures.</summary>
public enum PromptSetting
{
    /// <summary>One point inside the object; three masks, the one with the highest predicted IoU kept (SAM's ambiguity handling).</summary>
    OnePoint,
    /// <summary>One noisy box; a single mask.</summary>
    OneBox,
    /// <summary>One point, then two correction clicks from the error region, each with the previous logits as mask input.</summary>
    PointAndTwoClicks,
}

/// <summary>Scores of one prompt setting.</summary>
/// <param name="MeanIou">Mean IoU over objects.</param>
/// <param name="Above50">Share of objects with IoU &gt; 0.5.</param>
/// <param name="Above75">Share of objects with IoU &gt; 0.75.</param>
/// <param name="IouCorrelation">Pearson correlation of the predicted IoU with the actual one (NaN if either is constant).</param>
public sealed record SettingScore(PromptSetting Setting, double MeanIou, double Above50, double Above75, double IouCorrelation, int Objects);

/// <summary>One object's prediction kept for pictures.</summary>
/// <param name="Predicted">(S·S) the kept mask.</param>
public sealed record SamExample(int SceneIndex, int ObjectIndex, PromptSetting Setting, bool[] Predicted, IReadOnlyList<PromptPoint> Points, PixelBox? Box, double Iou, double PredictedIou);

/// <summary>The result of an evaluation.</summary>
public sealed record SamEvaluation(IReadOnlyList<SettingScore> Settings, double OverallIouCorrelation, int Scenes, int Objects, IReadOnlyList<SamExample> Examples)
{
    /// <summary>The scores as a Markdown table.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| prompt | objects | mean IoU | IoU > 0.5 | IoU > 0.75 | r(predicted IoU, IoU) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var s in Settings)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {Name(s.Setting)} | {s.Objects} | {s.MeanIou:F3} | {s.Above50:P1} | {s.Above75:P1} | {s.IouCorrelation:F3} |"));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| all | {Settings.Sum(s => s.Objects)} | | | | {OverallIouCorrelation:F3} |"));
        return sb.ToString();
    }

    /// <summary>A short label for a setting.</summary>
    public static string Name(PromptSetting s) => s switch
    {
        PromptSetting.OnePoint => "1 point",
        PromptSetting.OneBox => "1 box",
        _ => "1 point + 2 clicks",
    };
}

/// <summary>
/// Measures a SAM model on held-out scenes with the three prompt settings of <see cref="PromptSetting"/>,
/// as the SAM paper's interactive evaluation does (points from the object, later clicks from the error
/// region), plus how well the IoU head predicts the masks' real IoU.
/// </summary>
public static class SamEvaluator
{
    /// <summary>Evaluates scenes 0 … <paramref name="count"/> − 1 of <paramref name="scenes"/>.</summary>
    /// <param name="promptSeed">Seed of the prompt draws.</param>
    /// <param name="exampleScenes">How many of the first scenes keep their predictions for pictures.</param>
    /// <param name="progress">Called with the number of scenes done.</param>
    public static SamEvaluation Evaluate(SamModel model, FashionMnistScenes scenes, int count, int promptSeed = 0, int exampleScenes = 0,
        int batchScenes = 8, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scenes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var settings = Enum.GetValues<PromptSetting>();
        var actual = settings.ToDictionary(s => s, _ => new List<double>());
        var predicted = settings.ToDictionary(s => s, _ => new List<double>());
        var examples = new List<SamExample>();
        bool wasTraining = model.training;
        model.eval();
        using var noGrad = no_grad();
        int objects = 0;
        for (int start = 0; start < count; start += batchScenes)
        {
            using var scope = NewDisposeScope();
            var batch = scenes.Range(start, Math.Min(batchScenes, count - start)).ToList();
            var embeddings = model.image_encoder.call(SamSceneRunner.ImageBatch(model, batch));
            for (int b = 0; b < batch.Count; b++)
            {
                int index = start + b;
                var scene = batch[b];
                var rng = FashionMnistScenes.RandomFor(promptSeed, index, stream: 11);
                var emb = embeddings.narrow(0, b, 1);
                objects += scene.Objects.Count;
                foreach (var setting in settings)
                {
                    var results = Run(model, emb, scene, setting, rng);
                    for (int i = 0; i < results.Count; i++)
                    {
                        var r = results[i];
                        double iou = Iou(r.Mask, scene.Objects[i].Mask);
                        actual[setting].Add(iou);
                        predicted[setting].Add(r.PredictedIou);
                        if (index < exampleScenes) examples.Add(new SamExample(index, i, setting, r.Mask, r.Points, r.Box, iou, r.PredictedIou));
                    }
                }
            }
            progress?.Invoke(start + batch.Count);
        }
        if (wasTraining) model.train();
        var scores = settings.Select(s => new SettingScore(s, actual[s].Average(), actual[s].Count(v => v > 0.5) / (double)actual[s].Count,
            actual[s].Count(v => v > 0.75) / (double)actual[s].Count, Pearson(predicted[s], actual[s]), actual[s].Count)).ToList();
        var overall = Pearson(settings.SelectMany(s => predicted[s]).ToList(), settings.SelectMany(s => actual[s]).ToList());
        return new SamEvaluation(scores, overall, count, objects, examples);
    }

    sealed record ObjectResult(bool[] Mask, double PredictedIou, IReadOnlyList<PromptPoint> Points, PixelBox? Box);

    static List<ObjectResult> Run(SamModel model, Tensor embedding, SegmentationScene scene, PromptSetting setting, Random rng)
    {
        int k = scene.Objects.Count, s = scene.Size;
        bool box = setting == PromptSetting.OneBox;
        var points = scene.Objects.Select(o => box ? new List<PromptPoint>() : [PromptSampler.PointInside(o.Mask, s, rng)]).ToList();
        var boxes = scene.Objects.Select(o => box ? PromptSampler.NoisyBox(o.Mask, s, rng) : (PixelBox?)null).ToList();
        int rounds = setting == PromptSetting.PointAndTwoClicks ? 3 : 1;
        Tensor? maskInput = null;
        Tensor chosen = null!, chosenIou = null!;
        var rows = arange(k, dtype: ScalarType.Int64);
        for (int round = 0; round < rounds; round++)
        {
            bool multimask = round == 0 && !box;
            var prompts = Enumerable.Range(0, k).Select(i => new ObjectPrompt(points[i].ToList(), boxes[i])).ToList();
            var dec = SamSceneRunner.Decode(model, embedding, prompts, maskInput, multimask);
            var best = dec.IouPred.argmax(1); // (K)
            chosen = dec.Masks[rows, best]; // (K, S, S)
            chosenIou = dec.IouPred[rows, best];
            maskInput = dec.LowRes[rows, best].unsqueeze(1); // (K, 1, 4h, 4w)
            if (round == rounds - 1) break;
            for (int i = 0; i < k; i++)
            {
                var click = PromptSampler.CorrectionClick(SamSceneRunner.Binary(chosen[i]), scene.Objects[i].Mask, s, rng)
                    ?? PromptSampler.PointInside(scene.Objects[i].Mask, s, rng);
                points[i].Add(click);
            }
        }
        var ious = chosenIou.to(ScalarType.Float64).cpu().data<double>().ToArray();
        return Enumerable.Range(0, k).Select(i => new ObjectResult(SamSceneRunner.Binary(chosen[i]), ious[i], points[i], boxes[i])).ToList();
    }

    /// <summary>IoU of two masks (1 when both are empty).</summary>
    public static double Iou(bool[] a, bool[] b)
    {
        int inter = 0, union = 0;
        for (int i = 0; i < a.Length; i++) { if (a[i] && b[i]) inter++; if (a[i] || b[i]) union++; }
        return union == 0 ? 1 : inter / (double)union;
    }

    /// <summary>Pearson correlation; NaN when either series is constant.</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my); }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }
}
