using Spectre.Console;
using Spectre.Console.Rendering;

namespace SharpVision.Cli.Output;

/// <summary>Spectre.Console progress bars with a rate (items/s) and an ETA column.</summary>
public static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/> inside a live progress display.</summary>
    /// <param name="unit">What the rate counts, e.g. "img"; null: no rate column (elapsed time instead).</param>
    public static T Run<T>(string? unit, Func<ProgressContext, T> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                     unit is null ? new ElapsedTimeColumn() : new RateColumn(unit), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(work);

    /// <summary>Shows <see cref="ProgressTask.Speed"/> as "123 img/s".</summary>
    sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Markup(task.Speed is double s ? $"[grey]{s,8:0.0} {unit}/s[/]" : new string(' ', 10 + unit.Length));
    }
}
