using System.Globalization;
using System.Text;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Checkpoints;
using TorchSharp;

namespace SharpVision.Experiments.ControlNet;

/// <summary>The files <see cref="ControlNetEvaluationFiles.Write"/> wrote.</summary>
/// <param name="Markdown">adherence.md, the table.</param>
/// <param name="Csv">adherence.csv, one row per setting.</param>
/// <param name="Grid">grid.png: test image, condition, base sample and the controlled samples, one column per condition.</param>
public sealed record ControlNetEvaluationPaths(string Markdown, string Csv, string Grid)
{
    /// <summary>Every file written.</summary>
    public IReadOnlyList<string> Files => [Markdown, Csv, Grid];
}

/// <summary>The files of a ControlNet adherence evaluation (<c>controlnet evaluate</c> and the tour's ControlNet section).</summary>
public static class ControlNetEvaluationFiles
{
    /// <summary>
    /// Writes adherence.md, adherence.csv and grid.png (rows: test image, condition, base sample, controlled sample per scale; one
    /// column per condition) into <paramref name="outDir"/>.
    /// </summary>
    public static ControlNetEvaluationPaths Write(ControlNetEvaluationReport report, ControlNetEvaluationOptions options, double accuracy, string outDir)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder("# Edge ControlNet: control adherence\n\n");
        md.AppendLine(string.Create(inv, $"Conditions: Sobel edge maps (threshold {options.EdgeThreshold} on [0, 1] intensities) of the first {options.Samples} Fashion-MNIST test images. Each setting generates one image per condition with DDIM ({options.Steps} steps, eta 0) from the same noise. Edge IoU counts exact pixels; edge F1 counts edges within {options.Tolerance} pixel(s). FD-FMNIST is the Fréchet distance of 128-d features of a Fashion-MNIST classifier (test accuracy {accuracy:P2}) between the generated images and the real test images; it is **not** Inception FID."));
        md.AppendLine().AppendLine($"| setting | edge IoU | edge F1 (±{options.Tolerance} px) | FD-FMNIST | ms / sample |").AppendLine("|---|---:|---:|---:|---:|");
        var csv = new StringBuilder("setting,scale,edge_iou,edge_f1,fd_fmnist,ms_per_sample,samples\n");
        foreach (var r in report.Rows)
        {
            string fd = r.FdFmnist is double v ? v.ToString("F3", inv) : "";
            md.AppendLine(string.Create(inv, $"| {r.Setting} | {r.EdgeIou:F4} | {r.EdgeF1:F4} | {fd} | {r.SecondsPerSample * 1000:F1} |"));
            csv.AppendLine(string.Create(inv, $"{(r.Scale == 0 ? "base" : "controlnet")},{r.Scale},{r.EdgeIou:F6},{r.EdgeF1:F6},{(r.FdFmnist is double f ? f.ToString("F6", inv) : "")},{r.SecondsPerSample * 1000:F3},{options.Samples}"));
        }
        Directory.CreateDirectory(outDir);
        var paths = new ControlNetEvaluationPaths(Path.Combine(outDir, "adherence.md"), Path.Combine(outDir, "adherence.csv"), Path.Combine(outDir, "grid.png"));
        AtomicFile.WriteAllText(paths.Markdown, md.ToString());
        AtomicFile.WriteAllText(paths.Csv, csv.ToString());
        using var scope = torch.NewDisposeScope();
        var rows = new List<torch.Tensor> { report.Originals, report.Conditions * 2 - 1 };
        rows.AddRange(report.Rows.Select(r => r.Grid));
        int k = rows.Min(r => (int)r.shape[0]);
        var grid = torch.cat(rows.Select(r => r.narrow(0, 0, k).to(torch.ScalarType.Float32)).ToArray()); // (rows·k, 1, H, W)
        Images.SaveGrid(grid, paths.Grid, columns: k, low: -1, high: 1);
        return paths;
    }
}
