using ScottPlot;

namespace SharpVision.Cli.Output;

/// <summary>One line of a chart.</summary>
public sealed record Series(string Name, double[] X, double[] Y);

/// <summary>PNG charts through ScottPlot.</summary>
public static class Charts
{
    /// <summary>
    /// Writes a line chart with markers, one line per series. <paramref name="xTicks"/> places labelled ticks
    /// (e.g. batch sizes on a log-2 axis, where X holds log2 of the value).
    /// </summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        (double Position, string Label)[]? xTicks = null, int width = 900, int height = 560)
    {
        var plot = new Plot();
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (xTicks is not null)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                xTicks.Select(t => t.Position).ToArray(), xTicks.Select(t => t.Label).ToArray());
        plot.ShowLegend(Alignment.LowerLeft);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp.png";
        plot.SavePng(temporary, width, height);
        File.Move(temporary, path, overwrite: true);
    }
}
