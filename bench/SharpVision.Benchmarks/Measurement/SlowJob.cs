using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;

namespace SharpVision.Benchmarks.Measurement;

/// <summary>
/// The job of benchmarks that take seconds to minutes an invocation: Monitoring (no pilot, no jitting call), one launch,
/// no warm-up iteration (the benchmark's setup calls the model once, which warms it up), a few iterations of one invocation.
/// </summary>
internal static class SlowJob
{
    public static Job Create(int iterations) => Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(0)
        .WithIterationCount(iterations).WithInvocationCount(1).WithUnrollFactor(1);
}
