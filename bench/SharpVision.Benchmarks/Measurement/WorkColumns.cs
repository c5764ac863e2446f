using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace SharpVision.Benchmarks.Measurement;

/// <summary>The work of one invocation of a benchmark case: counted FLOPs (<see cref="SharpVision.Nn.Flops.FlopCounter"/>) and images produced (0: none).</summary>
internal readonly record struct Work(double Flops, int Images);

/// <summary>
/// Throughput columns computed from each case's mean time and its <see cref="Work"/>: images/s, GFLOP/s, GFLOP/op,
/// and, given a baseline method (a large matmul measured in the same run), the fraction of the baseline's GFLOP/s
/// reached by the case, the baseline taken with the same parameter values (e.g. the same dtype).
/// </summary>
internal static class WorkColumns
{
    /// <param name="work">The work of a case, recorded by its setup; null when unknown.</param>
    /// <param name="baselineMethod">The benchmark method whose GFLOP/s is the machine's reachable rate; null for no fraction column.</param>
    public static IColumn[] Create(Func<BenchmarkCase, Work?> work, string? baselineMethod = null)
    {
        double? Rate(Summary s, BenchmarkCase c) =>
            work(c) is { Flops: > 0 } w && s[c]?.ResultStatistics is { } stats ? w.Flops / (stats.Mean / 1e9) : null;
        List<IColumn> columns =
        [
            new WorkColumn("images/s", "Images produced per second (images / mean time)",
                (s, c) => work(c) is { Images: > 0 } w && s[c]?.ResultStatistics is { } stats ? (w.Images / (stats.Mean / 1e9)).ToString("G3") : "-"),
            new WorkColumn("GFLOP/s", "Counted conv/linear/attention FLOPs per second",
                (s, c) => Rate(s, c) is { } r ? (r / 1e9).ToString("N1") : "-"),
            new WorkColumn("GFLOP/op", "Counted FLOPs of one invocation, in 1e9",
                (_, c) => work(c) is { } w ? (w.Flops / 1e9).ToString("N2") : "-"),
        ];
        if (baselineMethod is not null)
        {
            columns.Add(new WorkColumn("of " + baselineMethod, $"GFLOP/s as a fraction of the same run's {baselineMethod} GFLOP/s (same parameters)", (s, c) =>
            {
                var baseline = s.BenchmarksCases.FirstOrDefault(b => b.Descriptor.WorkloadMethod.Name == baselineMethod &&
                    b.Parameters.Items.Select(p => p.Value).SequenceEqual(c.Parameters.Items.Select(p => p.Value)));
                return baseline is not null && Rate(s, c) is { } r && Rate(s, baseline) is { } rb ? (r / rb).ToString("P0") : "-";
            }));
        }
        return [.. columns];
    }

    /// <summary>A custom column whose value <paramref name="value"/> computes from the summary (shown "NA" for a case without results).</summary>
    public static IColumn Column(string name, string legend, Func<Summary, BenchmarkCase, string> value) => new WorkColumn(name, legend, value);

    sealed class WorkColumn(string name, string legend, Func<Summary, BenchmarkCase, string> value) : IColumn
    {
        public string Id => nameof(WorkColumn) + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => legend;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
            summary[benchmarkCase]?.ResultStatistics is null ? "NA" : value(summary, benchmarkCase);
    }
}
