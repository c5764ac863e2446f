using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Experiments;
using SharpVision.Nn.Data;

namespace SharpVision.Cli.Tour;

/// <summary>A table in the report.</summary>
public sealed record ReportTable(string Caption, string[] Header, IReadOnlyList<string[]> Rows);

/// <summary>A PNG beside index.html, relative to the report folder.</summary>
public sealed record ReportImage(string File, string Caption);

/// <summary>What a finished stage leaves for the report: written as <c>STAGE/stage.json</c> and reused by later runs.</summary>
public sealed record StageResult
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required string Budget { get; init; }
    /// <summary>What the design notes claim, in a sentence or two.</summary>
    public required string Claim { get; init; }
    /// <summary>What this run measured, in a sentence or two.</summary>
    public required string Measured { get; init; }
    public double Seconds { get; init; }
    public DateTime FinishedUtc { get; init; }
    /// <summary>Every figure, for summary.json.</summary>
    public JsonObject Figures { get; init; } = [];
    public IReadOnlyList<ReportTable> Tables { get; init; } = [];
    public IReadOnlyList<ReportImage> Images { get; init; } = [];
    public IReadOnlyList<string> Notes { get; init; } = [];

    static readonly JsonSerializerOptions FigureNames = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>A stage's result record as its <see cref="Figures"/>: every public property under its snake_case name (the ones
    /// marked <c>[JsonIgnore]</c>, such as the files, left out).</summary>
    public static JsonObject FiguresOf<T>(T result) => JsonSerializer.SerializeToNode(result, FigureNames)!.AsObject();
}

/// <summary>What a stage gets to work with.</summary>
public sealed class TourContext(string outDir, TourBudget budget, LabeledImages train, LabeledImages test, string dataDescription,
    Action<double, string> progress)
{
    /// <summary>The report folder.</summary>
    public string OutDir { get; } = outDir;
    public TourBudget Budget { get; } = budget;
    public LabeledImages Train { get; } = train;
    public LabeledImages Test { get; } = test;
    public string DataDescription { get; } = dataDescription;

    /// <summary>The stage's own folder under the report (created).</summary>
    public string StageDir(string id) => Directory.CreateDirectory(Path.Combine(OutDir, id)).FullName;

    /// <summary>The path of a file the stage wrote (a full path under the report), relative to the report (for <see cref="ReportImage"/>).</summary>
    public string ReportPath(string file) => Path.GetRelativePath(OutDir, file).Replace('\\', '/');

    /// <summary>Reports the fraction of the current stage done (0–1) and what it is doing.</summary>
    public void Progress(double fraction, string status) => progress(Math.Clamp(fraction, 0, 1), status);

    /// <summary><see cref="Progress(double, string)"/> as an experiment's progress sink.</summary>
    public IProgress<ExperimentProgress> Progress() => new ImmediateProgress<ExperimentProgress>(p => Progress(p.Fraction, p.Status));
}

/// <summary>One section of the tour: it runs library APIs on real data and returns figures, tables and images.</summary>
public abstract class TourStage
{
    /// <summary>Short name used by --only and as the folder name.</summary>
    public abstract string Id { get; }
    public abstract string Title { get; }
    /// <summary>Stages whose outputs this one reads (they run first when missing).</summary>
    public virtual IReadOnlyList<string> Requires => [];
    /// <summary>Relative cost under the quick budget, in seconds measured on two cores (drives the overall ETA).</summary>
    public abstract double ExpectedSeconds { get; }
    public abstract StageResult Run(TourContext context);
}
