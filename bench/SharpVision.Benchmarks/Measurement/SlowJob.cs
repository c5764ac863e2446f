using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace SharpVision.Benchmarks.Measurement;

/// <summary>
/// The job of benchmarks that take seconds to minutes an invocation: Monitoring (no pilot, no jitting call), one launch,
/// no warm-up iteration (the benchmark's setup calls the model once, which warms it up), a few iterations of one invocation.
/// </summary>
internal static class SlowJob
{
    public static Job Create(int iterations) => Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(0)
        .WithIterationCount(iterations).WithInvocationCount(1).WithUnrollFactor(1)
        // In-process like every benchmark here (a generated child project misses the libTorchSharp fix for Debian 12).
        // In-process runs stop after 5 minutes by default; a 20-step SD 1.5 pipeline takes about 4 on 2 cores.
        .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true))
        // A mutator: it reshapes the job that Program.cs's --inProcess creates instead of running beside it.
        .AsMutator();
}
