using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Measurement;

/// <summary>
/// Times modules through forward hooks (so only <c>.call</c>, not <c>.forward</c>, is seen): each module's own time,
/// its total less its timed children's, summed under a kind. Calls run synchronously on the CPU, so wall time is theirs.
/// </summary>
sealed class ModuleTimer
{
    readonly Dictionary<string, double> self = new();
    readonly Stack<(long Start, double Children)> open = new();

    /// <summary>Each kind's own milliseconds since the last <see cref="Clear"/>, largest first.</summary>
    public IEnumerable<KeyValuePair<string, double>> Kinds => self.OrderByDescending(kv => kv.Value);

    public void Clear() => self.Clear();

    public void Hook(nn.Module<Tensor, Tensor> module, string kind)
    {
        module.register_forward_pre_hook((_, x) => { open.Push((Stopwatch.GetTimestamp(), 0)); return x; });
        module.register_forward_hook((_, _, y) =>
        {
            var (start, children) = open.Pop();
            double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            self[kind] = self.GetValueOrDefault(kind) + total - children;
            if (open.Count > 0) { var parent = open.Pop(); open.Push((parent.Start, parent.Children + total)); }
            return y;
        });
    }

    /// <summary>Prints the kinds as a markdown table with their shares of <paramref name="totalMs"/>, per call over
    /// <paramref name="calls"/> calls; the untimed rest (<paramref name="totalMs"/> less every kind) is the last row when
    /// <paramref name="rest"/> names it.</summary>
    public void Print(double totalMs, string? rest = null, int calls = 1)
    {
        totalMs /= calls;
        Console.WriteLine($"| {"operation",-62} | {"ms",8} | {"share",6} |");
        Console.WriteLine($"|{new string('-', 64)}|{new string('-', 9)}:|{new string('-', 7)}:|");
        foreach (var (kind, sum) in Kinds)
        {
            double ms = sum / calls;
            Console.WriteLine($"| {kind,-62} | {ms,8:F1} | {ms / totalMs,6:P1} |");
        }
        if (rest is not null)
        {
            double left = totalMs - self.Values.Sum() / calls;
            Console.WriteLine($"| {rest,-62} | {left,8:F1} | {left / totalMs,6:P1} |");
        }
    }
}
