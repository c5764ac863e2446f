using BenchmarkDotNet.Attributes;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using TorchSharp;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// A 1000-step DDIM sampling run (batch 4, the training configuration) and the process's peak working set during
/// it: the loop frees every step's tensors, so the peak stays at the first steps' level however long the run.
/// Each iteration resets the peak (writing 5 to /proc/self/clear_refs) and prints the rise of VmHWM over the
/// resident set at its start, and the live tensor count before and after.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 0, iterationCount: 2)]
public class SamplingMemoryBenchmarks
{
    UNet2DModel model = null!;
    long startRss;

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        model = new UNet2DModel(UNetBenchmarks.TrainingConfig);
    }

    [IterationSetup]
    public void ResetPeak()
    {
        ProcStatus.TryResetPeak();
        startRss = ProcStatus.Kb("VmRSS");
    }

    [Benchmark]
    public float Ddim1000StepsBatch4()
    {
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        float value;
        using (var images = new DDIMPipeline(model, new DDIMScheduler()).Sample(new SamplingOptions(Count: 4, Steps: 1000, Seed: 1)))
        using (var first = images[0, 0, 0, 0])
            value = first.item<float>();
        long liveAfter = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Console.WriteLine($"// 1000-step DDIM: peak working set {ProcStatus.Kb("VmHWM") / 1024.0:F0} MiB, " +
                          $"rise over start {(ProcStatus.Kb("VmHWM") - startRss) / 1024.0:F1} MiB; live tensors {liveBefore} -> {liveAfter}");
        return value;
    }

    [GlobalCleanup]
    public void Cleanup() => model.Dispose();
}
