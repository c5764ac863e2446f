using BenchmarkDotNet.Attributes;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Benchmarks.Algorithms;

/// <summary>Classifies every n in 1..1,000,000: Floyd's cycle detection against the hash-set variant (time and allocations).</summary>
[MemoryDiagnoser, MinColumn]
public class HappyNumberBenchmarks
{
    const int Count = 1_000_000;

    [Benchmark]
    public int Floyd()
    {
        int happy = 0;
        for (int n = 1; n <= Count; n++) if (HashTableAlgorithms.IsHappy(n)) happy++;
        return happy;
    }

    [Benchmark(Baseline = true)]
    public int HashSet()
    {
        int happy = 0;
        for (int n = 1; n <= Count; n++) if (HashTableAlgorithms.IsHappyWithSet(n)) happy++;
        return happy;
    }
}
