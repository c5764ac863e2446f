using System.Globalization;
using System.Text;
using SharpVision.Diffusion.Evaluation;
using SharpVision.Nn.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Output;

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
    /// Writes evaluation.md, evaluation.csv, samples.png (one column per setting, in table order) and, with inversion results,
    /// inversion.png (rows: inputs, latents, reconstructions) into <paramref name="outDir"/>.
    /// </summary>
    public static void Write(EvaluationReport report, double accuracy, EvaluationOptions options, string outDir, Tensor? inversionInputs)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Sampler comparison (FD-FMNIST)").AppendLine();
        md.AppendLine(string.Create(inv, $"FD-FMNIST is the Fréchet distance between Gaussians fitted to the 128-d penultimate features of a Fashion-MNIST classifier (test accuracy {accuracy:P2}) for {options.Samples} generated images per setting and the real test images. It is **not** Inception FID."));
        md.AppendLine().AppendLine("| sampler | eta | steps | FD-FMNIST | ms / sample |").AppendLine("|---|---:|---:|---:|---:|");
        var csv = new StringBuilder("sampler,eta,steps,fd_fmnist,seconds_per_sample,samples\n");
        foreach (var r in report.Rows)
        {
            md.AppendLine(string.Create(inv, $"| {r.Sampler} | {r.Eta:0} | {r.Steps} | {r.FdFmnist:F3} | {r.SecondsPerSample * 1000:F1} |"));
            csv.AppendLine(string.Create(inv, $"{r.Sampler},{r.Eta:0},{r.Steps},{r.FdFmnist:F6},{r.SecondsPerSample:F6},{options.Samples}"));
        }
        md.AppendLine(string.Create(inv, $"| real vs real (two halves of the test set) | | | {report.RealVsReal:F3} | |"));
        csv.AppendLine(string.Create(inv, $"real_vs_real,,,{report.RealVsReal:F6},,"));
        foreach (var l in Findings(report, options)) md.AppendLine().AppendLine(l);

        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "evaluation.md"), md.ToString());
        AtomicFile.WriteAllText(Path.Combine(outDir, "evaluation.csv"), csv.ToString());
        using var scope = torch.NewDisposeScope();
        // One column per setting: row i holds sample i of every setting.
        int rows = report.Rows.Min(r => (int)r.Grid.shape[0]);
        var cells = torch.stack(report.Rows.Select(r => r.Grid.narrow(0, 0, rows)).ToArray(), 1); // (rows, settings, C, H, W)
        Images.SaveGrid(cells.flatten(0, 1), Path.Combine(outDir, "samples.png"), columns: report.Rows.Count, low: -1, high: 1);
        if (report.Inversion is { } r3 && inversionInputs is not null)
            Images.SaveGrid(torch.cat([inversionInputs, r3.Latents.clamp(-1, 1), r3.Reconstruction]), Path.Combine(outDir, "inversion.png"),
                columns: (int)inversionInputs.shape[0], low: -1, high: 1);
    }
}
