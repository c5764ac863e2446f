using System.Diagnostics;
using System.Globalization;
using System.Text;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Quantization;
using SharpVision.Diffusion.Training;

namespace SharpVision.Experiments.VQVAE;

/// <summary>The codebook-learning schemes compared by <see cref="VQVAEComparison"/>.</summary>
public enum VQVAEVariant
{
    /// <summary>Straight-through estimator with the paper's two quantizer losses (codebook + β·commitment), codebook moved by Adam.</summary>
    Ste,
    /// <summary>EMA codebook updates (appendix A.1), commitment loss only.</summary>
    Ema,
    /// <summary>EMA plus re-seeding codes whose EMA cluster size falls below a threshold from random encoder outputs.</summary>
    EmaRestart,
}

/// <summary>One variant's result.</summary>
/// <param name="TrainLoss">Mean training loss over the last 10% of steps.</param>
public sealed record VQVAEComparisonRow(VQVAEVariant Variant, VQVAEEvaluation Test, double TrainLoss, long Steps, TimeSpan Elapsed);

/// <summary>Trains the same VQ-VAE with each <see cref="VQVAEVariant"/> at the same budget and compares test figures.</summary>
public static class VQVAEComparison
{
    /// <summary>Display name of a variant.</summary>
    public static string Name(VQVAEVariant v) => v switch
    {
        VQVAEVariant.Ste => "STE (codebook + commitment loss)",
        VQVAEVariant.Ema => "EMA",
        VQVAEVariant.EmaRestart => "EMA + dead-code restart",
        _ => throw new ArgumentOutOfRangeException(nameof(v), v, "unknown variant"),
    };

    /// <summary>Quantizer options of a variant (β 0.25; the paper's non-legacy weighting; restart below 1 vector per batch).</summary>
    public static VectorQuantizerOptions QuantizerFor(VQVAEVariant v, double deadCodeThreshold = 1.0) => v switch
    {
        VQVAEVariant.Ste => new VectorQuantizerOptions { Legacy = false },
        VQVAEVariant.Ema => new VectorQuantizerOptions { Legacy = false, Update = QuantizerUpdate.Ema },
        VQVAEVariant.EmaRestart => new VectorQuantizerOptions { Legacy = false, Update = QuantizerUpdate.Ema, DeadCodeThreshold = deadCodeThreshold },
        _ => throw new ArgumentOutOfRangeException(nameof(v), v, "unknown variant"),
    };

    /// <summary>Trains each variant for <paramref name="steps"/> steps from the same seed and evaluates it on the test images.</summary>
    /// <param name="trainImages">(N, C, H, W) in [−1, 1].</param>
    /// <param name="testImages">(M, C, H, W) in [−1, 1].</param>
    /// <param name="padding">Margin of the images excluded from the test MSE.</param>
    /// <param name="progress">Called after every step with the variant and the step's figures.</param>
    /// <param name="finished">Called with the rows so far after each variant (to save partial results of a long run).</param>
    public static IReadOnlyList<VQVAEComparisonRow> Run(IReadOnlyList<VQVAEVariant> variants, VQModelConfig config, Tensor trainImages,
        Tensor testImages, int padding, long steps, VQVAETrainingOptions options, Action<VQVAEVariant, VQVAEStep>? progress = null,
        Action<IReadOnlyList<VQVAEComparisonRow>>? finished = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        var rows = new List<VQVAEComparisonRow>();
        foreach (var v in variants)
        {
            var watch = Stopwatch.StartNew();
            using var trainer = new VQVAETrainer(config, trainImages, options with { Quantizer = QuantizerFor(v) });
            var tail = new List<double>();
            long tailFrom = steps - Math.Max(1, steps / 10);
            trainer.Train(steps, s =>
            {
                if (s.Step > tailFrom) tail.Add(s.Loss);
                progress?.Invoke(v, s);
            }, cancel);
            var test = VQVAETrainer.Evaluate(trainer.Model, testImages, padding);
            rows.Add(new VQVAEComparisonRow(v, test, tail.Average(), steps, watch.Elapsed));
            finished?.Invoke(rows);
        }
        return rows;
    }

    /// <summary>A Markdown table of the rows.</summary>
    public static string Markdown(IReadOnlyList<VQVAEComparisonRow> rows, int codebookSize)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        sb.AppendLine($"| variant | test MSE | perplexity (of {codebookSize}) | codes used | final train loss | steps | seconds |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {Name(r.Variant)} | {r.Test.Mse:F5} | {r.Test.Perplexity:F1} | {r.Test.Usage:P1} | {r.TrainLoss:F4} | {r.Steps} | {r.Elapsed.TotalSeconds:F0} |"));
        return sb.ToString();
    }

    /// <summary>The rows as CSV (usage as a percentage).</summary>
    public static string Csv(IReadOnlyList<VQVAEComparisonRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder("variant,test_mse,perplexity,codes_used_percent,final_train_loss,steps,seconds\n");
        foreach (var r in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Variant},{r.Test.Mse:F6},{r.Test.Perplexity:F3},{100 * r.Test.Usage:F2},{r.TrainLoss:F6},{r.Steps},{r.Elapsed.TotalSeconds:F1}"));
        return sb.ToString();
    }

    /// <summary>One sentence drawn from the numbers: which variant reconstructs best and which uses the codebook most.</summary>
    public static string Conclusion(IReadOnlyList<VQVAEComparisonRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) return "No runs.";
        var best = rows.MinBy(r => r.Test.Mse)!;
        var worst = rows.MaxBy(r => r.Test.Mse)!;
        var mostCodes = rows.MaxBy(r => r.Test.Perplexity)!;
        var fewest = rows.MinBy(r => r.Test.Perplexity)!;
        var inv = CultureInfo.InvariantCulture;
        if (rows.Count == 1)
            return string.Create(inv, $"{Name(best.Variant)}: test MSE {best.Test.Mse:F5}, perplexity {best.Test.Perplexity:F1}, {best.Test.Usage:P0} of codes used.");
        string mse = string.Create(inv, $"{Name(best.Variant)} reconstructs best (test MSE {best.Test.Mse:F5} vs {worst.Test.Mse:F5} for {Name(worst.Variant)}, {worst.Test.Mse / best.Test.Mse:F2}× higher)");
        string codes = mostCodes == best
            ? string.Create(inv, $" and also uses its codebook most (perplexity {mostCodes.Test.Perplexity:F1}, {mostCodes.Test.Usage:P0} of codes vs {fewest.Test.Perplexity:F1} / {fewest.Test.Usage:P0} for {Name(fewest.Variant)})")
            : string.Create(inv, $", while {Name(mostCodes.Variant)} uses the codebook most (perplexity {mostCodes.Test.Perplexity:F1}, {mostCodes.Test.Usage:P0} of codes vs {fewest.Test.Perplexity:F1} / {fewest.Test.Usage:P0} for {Name(fewest.Variant)})");
        return mse + codes + ".";
    }
}
