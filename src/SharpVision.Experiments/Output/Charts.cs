using ScottPlot;

namespace SharpVision.Experiments.Output;

/// <summary>One line of a chart.</summary>
public sealed record Series(string Name, double[] X, double[] Y);

/// <summary>PNG charts through ScottPlot.</summary>
public static class Charts
{
    /// <summary>
    /// Writes a line chart with markers, one line per series. <paramref name="xTicks"/> places labelled ticks
    /// (e.g. batch sizes on a log-2 axis, where X holds log2 of the value). <paramref name="references"/> draws dashed
    /// horizontal lines at the given heights (e.g. a baseline's value), each in the legend; a null <paramref name="legend"/> puts the legend right of the plot; <paramref name="yTicks"/> labels the
    /// vertical axis as <paramref name="xTicks"/> does the horizontal one.
    /// </summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        (double Position, string Label)[]? xTicks = null, int width = 900, int height = 560,
        IReadOnlyList<(string Name, double Y)>? references = null, Alignment? legend = Alignment.LowerLeft,
        (double Position, string Label)[]? yTicks = null)
    {
        var plot = new Plot();
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        foreach (var (name, y) in references ?? [])
        {
            var line = plot.Add.HorizontalLine(y);
            line.LegendText = name;
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1.5f;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (xTicks is not null)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                xTicks.Select(t => t.Position).ToArray(), xTicks.Select(t => t.Label).ToArray());
        if (yTicks is not null)
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                yTicks.Select(t => t.Position).ToArray(), yTicks.Select(t => t.Label).ToArray());
        if (legend is { } corner) plot.ShowLegend(corner);
        else plot.ShowLegend(Edge.Right);
        Save(plot, path, width, height);
    }
    /// <summary>
    /// Writes a confusion matrix: rows are the true classes (top to bottom), columns the predicted ones, each cell
    /// shaded by its share of the row and labelled with its count.
    /// </summary>
    public static void Confusion(string path, string title, int[,] counts, IReadOnlyList<string> labels, int size = 760)
    {
        int n = counts.GetLength(0);
        var share = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            double row = 0;
            for (int j = 0; j < n; j++) row += counts[i, j];
            for (int j = 0; j < n; j++) share[i, j] = row > 0 ? counts[i, j] / row : 0;
        }
        var plot = new Plot();
        var map = plot.Add.Heatmap(share);
        map.Colormap = new ScottPlot.Colormaps.GrayscaleReversed(); // 0 white, 1 black
        map.Extent = new CoordinateRect(0, n, 0, n); // data[0, 0] is drawn at the top left
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                var text = plot.Add.Text(counts[i, j].ToString(System.Globalization.CultureInfo.InvariantCulture), j + 0.5, n - i - 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = share[i, j] > 0.5 ? Colors.White : Colors.Black;
                text.LabelFontSize = 11;
            }
        double[] centres = Enumerable.Range(0, n).Select(k => k + 0.5).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(centres, labels.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110; // room for the rotated class names below the axis title
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(centres, labels.Reverse().ToArray());
        plot.Axes.SetLimits(0, n, 0, n);
        plot.Title(title);
        plot.XLabel("predicted");
        plot.YLabel("true");
        Save(plot, path, size, size);
    }

    /// <summary>Writes a scatter plot of points (no lines), one colour per series, with an optional y = x diagonal.</summary>
    public static void Scatter(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        bool diagonal = false, int width = 760, int height = 600)
    {
        var plot = new Plot();
        foreach (var s in series)
        {
            var points = plot.Add.ScatterPoints(s.X, s.Y);
            points.LegendText = s.Name;
            points.MarkerSize = 5;
        }
        if (diagonal)
        {
            var line = plot.Add.Line(0, 0, 1, 1);
            line.LineColor = Colors.Gray;
            line.LegendText = "y = x";
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperLeft);
        Save(plot, path, width, height);
    }

    static void Save(Plot plot, string path, int width, int height)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp.png";
        plot.SavePng(temporary, width, height);
        File.Move(temporary, path, overwrite: true);
    }
}
