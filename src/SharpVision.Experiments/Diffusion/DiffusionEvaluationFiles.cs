using System.Globalization;
using System.Text;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Experiments.Diffusion;

/// <summary>The files <see cref="DiffusionEvaluationFiles.Write"/> wrote.</summary>
/// <param name="Markdown">evaluation.md, the table and the findings.</param>
/// <param name="Csv">evaluation.csv, one row per setting.</param>
/// <param name="Samples">samples.png, one column per setting in table order.</param>
/// <param name="Inversion">inversion.png (inputs, latents, reconstructions), or null without an inversion.</param>
/// <param name="BudgetChart">fd-vs-calls.png, FD-FMNIST against model calls.</param>
public sealed record DiffusionEvaluationPaths(string Markdown, string Csv, string Samples, string? Inversion, string BudgetChart)
{
    /// <summary>Every file written.</summary>
    public IReadOnlyList<string> Files => Inversion is null ? [Markdown, Csv, Samples, BudgetChart] : [Markdown, Csv, Samples, Inversion, BudgetChart];
}

/// <summary>The files and sentences of a sampler comparison (<c>diffusion evaluate</c> and the tour's diffusion section).</summary>
public static class DiffusionEvaluationFiles
{
    /// <summary>The determinism and inversion sentences.</summary>
    public static IReadOnlyList<string> Findings(EvaluationReport report, EvaluationOptions options)
    {
        var lines = new List<string> { $"Determinism: DDIM eta 0 twice from the same noise is {(report.Deterministic ? "bit-identical" : "NOT bit-identical")}." };
        if (report.Inversion is { } r2)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"DDIM inversion of {r2.RmsError.Length} test images ({options.InversionSteps} steps, pixels in [-1, 1]): round-trip RMS error {r2.MeanRmsError:F5}, max |error| {r2.MaxAbsError:F5}."));
        return lines;
    }

    /// <summary>
    /// Writes evaluation.md, evaluation.csv, samples.png (one column per setting, in table order), fd-vs-calls.png and, with
    /// inversion results, inversion.png (rows: inputs, latents, reconstructions) into <paramref name="outDir"/>.
    /// </summary>
    public static DiffusionEvaluationPaths Write(EvaluationReport report, double accuracy, EvaluationOptions options, string outDir, Tensor? inversionInputs)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Sampler comparison (FD-FMNIST)").AppendLine();
        md.AppendLine(string.Create(inv, $"FD-FMNIST is the Fréchet distance between Gaussians fitted to the 128-d penultimate features of a Fashion-MNIST classifier (test accuracy {accuracy:P2}) for {options.Samples} generated images per setting and the real test images. It is **not** Inception FID."));
        md.AppendLine().AppendLine("| sampler | eta | steps | model calls | FD-FMNIST | ms / sample |").AppendLine("|---|---:|---:|---:|---:|---:|");
        var csv = new StringBuilder("sampler,eta,steps,fd_fmnist,seconds_per_sample,samples,model_calls\n");
        foreach (var r in report.Rows)
        {
            md.AppendLine(string.Create(inv, $"| {r.Sampler} | {r.Eta:0} | {r.Steps} | {r.ModelCalls} | {r.FdFmnist:F3} | {r.SecondsPerSample * 1000:F1} |"));
            csv.AppendLine(string.Create(inv, $"{r.Sampler},{r.Eta:0},{r.Steps},{r.FdFmnist:F6},{r.SecondsPerSample:F6},{options.Samples},{r.ModelCalls}"));
        }
        md.AppendLine(string.Create(inv, $"| real vs real (two halves of the test set) | | | | {report.RealVsReal:F3} | |"));
        csv.AppendLine(string.Create(inv, $"real_vs_real,,,{report.RealVsReal:F6},,,"));
        foreach (var l in Findings(report, options)) md.AppendLine().AppendLine(l);

        Directory.CreateDirectory(outDir);
        var paths = new DiffusionEvaluationPaths(Path.Combine(outDir, "evaluation.md"), Path.Combine(outDir, "evaluation.csv"), Path.Combine(outDir, "samples.png"),
            report.Inversion is not null && inversionInputs is not null ? Path.Combine(outDir, "inversion.png") : null, Path.Combine(outDir, "fd-vs-calls.png"));
        AtomicFile.WriteAllText(paths.Markdown, md.ToString());
        AtomicFile.WriteAllText(paths.Csv, csv.ToString());
        using var scope = torch.NewDisposeScope();
        // One column per setting: row i holds sample i of every setting.
        int rows = report.Rows.Min(r => (int)r.Grid.shape[0]);
        var cells = torch.stack(report.Rows.Select(r => r.Grid.narrow(0, 0, rows)).ToArray(), 1); // (rows, settings, C, H, W)
        Images.SaveGrid(cells.flatten(0, 1), paths.Samples, columns: report.Rows.Count, low: -1, high: 1);
        if (report.Inversion is { } r3 && inversionInputs is not null)
            Images.SaveGrid(torch.cat([inversionInputs, r3.Latents.clamp(-1, 1), r3.Reconstruction]), paths.Inversion!,
                columns: (int)inversionInputs.shape[0], low: -1, high: 1);
        BudgetChart(report.Rows, report.RealVsReal, options, paths.BudgetChart);
        return paths;
    }

    /// <summary>
    /// FD-FMNIST against model calls, both on log axes: one line per sampler family (DDIM eta 0 and 1, each solver),
    /// DDPM and the real-vs-real floor as dashed reference lines; the calls axis is labelled at the requested budgets.
    /// </summary>
    public static void BudgetChart(IReadOnlyList<SamplerResult> results, double realVsReal, EvaluationOptions options, string path)
    {
        var inv = CultureInfo.InvariantCulture;
        static double Log(double fd) => Math.Log10(Math.Max(fd, 1e-3));
        var series = results.Where(r => r.Family != SamplerFamily.Ddpm).GroupBy(r => r.Family)
            .Select(g => new Series(g.Key, g.Select(r => Math.Log2(r.ModelCalls)).ToArray(), g.Select(r => Log(r.FdFmnist)).ToArray()))
            .ToList();
        var references = results.Where(r => r.Family == SamplerFamily.Ddpm).Select(r => (string.Create(inv, $"DDPM {r.Steps} steps"), Log(r.FdFmnist)))
            .Append(("real vs real", Log(realVsReal))).ToList();
        int most = results.Where(r => r.Family != SamplerFamily.Ddpm).Select(r => r.ModelCalls).DefaultIfEmpty(1).Max();
        var budgets = options.Steps.Concat(options.Solvers is { Count: > 0 } ? options.Calls : []).Where(c => c <= most).Distinct().Order()
            .Select(c => (Math.Log2(c), c.ToString(inv))).ToArray();
        var values = series.SelectMany(s => s.Y).Concat(references.Select(r => r.Item2)).ToList();
        Charts.Lines(path, string.Create(inv, $"FD-FMNIST against model calls ({options.Samples} samples per point, lower is better)"),
            "model calls (UNet evaluations per sample)", "FD-FMNIST", series, budgets, width: 1040, height: 600,
            references: references, legend: null, yTicks: LogTicks(values.Min(), values.Max()));
    }

    /// <summary>1-2-5 ticks covering two log10 values, labelled with the values themselves.</summary>
    static (double Position, string Label)[] LogTicks(double low, double high)
    {
        var ticks = new List<(double, string)>();
        for (int decade = (int)Math.Floor(low) - 1; decade <= (int)Math.Ceiling(high); decade++)
            foreach (double m in new[] { 1.0, 2.0, 5.0 })
            {
                double v = m * Math.Pow(10, decade), position = Math.Log10(v);
                if (position >= low - 0.35 && position <= high + 0.35) ticks.Add((position, v.ToString("0.###", CultureInfo.InvariantCulture)));
            }
        return ticks.ToArray();
    }
}
