using BenchmarkDotNet.Attributes;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Benchmarks.Algorithms;

/// <summary>
/// Intersection of two 1,000,000-element arrays against LINQ's Enumerable.Intersect, sorted (same output as ours) and plain.
/// Dense: values uniform in [-1,000,000, 1,000,000) (the bitmap path; ~310,000 common values).
/// Sparse: values over the whole int range, half of the second array drawn from the first (the hash path; ~390,000 common).
/// </summary>
[MemoryDiagnoser, MinColumn]
public class IntersectionBenchmarks
{
    const int Length = 1_000_000;

    [Params("Dense", "Sparse")]
    public string Data { get; set; } = "Dense";

    int[] a = [], b = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(349);
        if (Data == "Dense")
        {
            a = [.. Enumerable.Range(0, Length).Select(_ => rng.Next(-Length, Length))];
            b = [.. Enumerable.Range(0, Length).Select(_ => rng.Next(-Length, Length))];
        }
        else
        {
            a = [.. Enumerable.Range(0, Length).Select(_ => rng.Next(int.MinValue, int.MaxValue))];
            b = [.. Enumerable.Range(0, Length).Select(i => i % 2 == 0 ? a[rng.Next(Length)] : rng.Next(int.MinValue, int.MaxValue))];
        }
        if (!Intersection().AsSpan().SequenceEqual(LinqIntersectOrdered()))
            throw new InvalidOperationException("Intersection disagrees with LINQ");
    }

    [Benchmark]
    public int[] Intersection() => HashTableAlgorithms.Intersection(a, b);

    [Benchmark(Baseline = true)]
    public int[] LinqIntersectOrdered() => [.. a.Intersect(b).Order()];

    [Benchmark]
    public int[] LinqIntersect() => [.. a.Intersect(b)];
}
