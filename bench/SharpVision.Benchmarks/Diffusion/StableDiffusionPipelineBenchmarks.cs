using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Nn.Flops;
using TorchSharp;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// The whole Stable Diffusion 1.5 text-to-image run at 512², batch 1, float32, random weights built from the real
/// configs (<see cref="RandomStableDiffusion"/>): tokenize the prompt and the empty negative prompt, encode both with
/// CLIP, 20 DPM-Solver++ (2M) steps with classifier-free guidance 7.5 (the UNet at batch 2 each step), VAE decode.
/// The library's <see cref="SharpVision.Diffusion.Pipelines.StableDiffusionPipeline"/> takes prompt embeddings, not
/// text, so the tokenizer and the text encoder run before its <c>Call</c>, inside the timed run. Steps = 1 is the same
/// run with one step, so (T20 − T1) / 19 is one guided denoising step. Columns: GFLOP/s and GFLOP/op (counted with
/// hooks: text encoder and VAE once, the UNet once per step), images/s, and peak MiB: the process's peak resident set
/// (VmHWM) during the run, reset before each iteration; each iteration also prints it.
/// </summary>
/// <remarks>
/// Very slow (a 20-step run is about 20 fp32 UNet calls at batch 2, tens of seconds each on 2 cores): Monitoring job,
/// no warm-up iteration (setup runs one step, counting the FLOPs), 2 iterations of one invocation, torch on 2 threads.
/// Run with <c>dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*StableDiffusionPipelineBenchmarks*'</c>
/// (no <c>--job</c>). BenchmarkDotNet runs in-process, so the peak of a whole fresh process is printed by the console
/// entries instead: <c>-- --sd-smoke</c> (one step) and <c>-- --sd-memory [steps]</c> (<see cref="StableDiffusionSmoke"/>).
/// </remarks>
[Config(typeof(Columns))]
public class StableDiffusionPipelineBenchmarks
{
    static readonly Dictionary<int, Work> Recorded = [];
    static readonly Dictionary<int, long> PeakKb = [];

    [Params(1, 20)]
    public int Steps { get; set; }

    RandomStableDiffusion sd = null!;
    bool peakReset;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(RandomStableDiffusion.Threads);
        sd = RandomStableDiffusion.Build();
        // One counted run: the UNet's work is per step, the text encoder's and the VAE's once per image.
        FlopCount text = null!, vae = null!;
        var unet = FlopCounter.Count(sd.Pipeline.Unet, () =>
            text = FlopCounter.Count(sd.TextEncoder, () =>
                vae = FlopCounter.Count(sd.Pipeline.Vae, () => sd.TextToImage(RandomStableDiffusion.Prompt, steps: 1, seed: 1).Dispose())));
        double perStep = unet.Flops, once = text.Flops + vae.Flops;
        lock (Recorded) Recorded[Steps] = new(once + Steps * perStep, 1);
    }

    [IterationSetup]
    public void ResetPeak() => peakReset = ProcStatus.TryResetPeak();

    /// <summary>Prompt to (1, 3, 512, 512) image.</summary>
    [Benchmark]
    public float TextToImage()
    {
        float value;
        using (var image = sd.TextToImage(RandomStableDiffusion.Prompt, Steps, seed: 1))
        using (var first = image[0, 0, 0, 0])
            value = first.item<float>();
        lock (PeakKb) PeakKb[Steps] = Math.Max(PeakKb.GetValueOrDefault(Steps), ProcStatus.Kb("VmHWM"));
        Console.WriteLine($"// {Steps}-step text-to-image: {ProcStatus.PeakLine()}{(peakReset ? "" : " (peak not reset: the process's peak so far)")}");
        return value;
    }

    [GlobalCleanup]
    public void Cleanup() => sd.Dispose();

    sealed class Columns : ManualConfig
    {
        public Columns()
        {
            AddJob(SlowJob.Create(iterations: 2));
            AddColumn(WorkColumns.Create(c =>
            {
                lock (Recorded) return Recorded.TryGetValue((int)c.Parameters["Steps"], out var w) ? w : null;
            }));
            AddColumn(WorkColumns.Column("peak MiB", "Peak resident set (VmHWM) during the run, reset before each iteration", (_, c) =>
            {
                lock (PeakKb) return PeakKb.TryGetValue((int)c.Parameters["Steps"], out var kb) ? (kb / 1024.0).ToString("N0") : "-";
            }));
        }
    }
}
