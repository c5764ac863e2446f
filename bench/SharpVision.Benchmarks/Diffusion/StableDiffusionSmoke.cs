using System.Diagnostics;
using SharpVision.Benchmarks.Measurement;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// Console entries beside the BenchmarkDotNet runs (which share one process, so their peak memory is not one run's):
/// build Stable Diffusion 1.5 from its configuration folder with random weights (<see cref="RandomStableDiffusion"/>),
/// run prompt to 512² image with a few DPM-Solver++ steps and classifier-free guidance in a fresh process, print the
/// times, the image's range and the peak resident set (VmHWM) of the whole process.
/// <c>dotnet run -c Release --project bench/SharpVision.Benchmarks -- --sd-smoke</c> runs one step (the smoke test);
/// <c>-- --sd-memory [steps]</c> runs <c>steps</c> (default 2, so the multistep solver's second-order update runs too).
/// </summary>
internal static class StableDiffusionSmoke
{
    /// <returns>0 when the image is (1, 3, 512, 512) and finite, 1 otherwise.</returns>
    public static int Run(int steps)
    {
        // As `sharpvision generate` does; SHARPVISION_DEFAULT_HEAP=1 measures glibc's default behaviour instead.
        if (Environment.GetEnvironmentVariable("SHARPVISION_DEFAULT_HEAP") != "1") SharpVision.Nn.Memory.NativeHeap.ReturnLargeBlocksToTheSystem();
        torch.set_num_threads(RandomStableDiffusion.Threads);
        var clock = Stopwatch.StartNew();
        using var sd = RandomStableDiffusion.Build();
        Console.WriteLine($"// SD 1.5 from {RandomStableDiffusion.Folder().Directory}, random weights: UNet {Millions(sd.Pipeline.Unet)}, " +
                          $"VAE {Millions(sd.Pipeline.Vae)}, text encoder {Millions(sd.TextEncoder)} parameters; built in {clock.Elapsed.TotalSeconds:F1} s; {ProcStatus.PeakLine()}");
        clock.Restart();
        using var image = sd.TextToImage(RandomStableDiffusion.Prompt, steps, seed: 1);
        double seconds = clock.Elapsed.TotalSeconds;
        bool finite, shapeOk = image.shape.SequenceEqual([1L, 3, RandomStableDiffusion.Size, RandomStableDiffusion.Size]);
        float min, max;
        using (var scope = NewDisposeScope())
        {
            finite = isfinite(image).all().item<bool>();
            (min, max) = (image.min().item<float>(), image.max().item<float>());
        }
        Console.WriteLine($"// prompt to image at {RandomStableDiffusion.Size}², {steps} {RandomStableDiffusion.SchedulerClassName} step(s), guidance " +
                          $"{RandomStableDiffusion.GuidanceScale}, {torch.get_num_threads()} threads: {seconds:F1} s; image ({string.Join(", ", image.shape)}) " +
                          $"in [{min:G3}, {max:G3}]{(finite ? "" : ", NOT FINITE")}");
        Console.WriteLine($"// whole process (build and run): {ProcStatus.PeakLine()}");
        return finite && shapeOk ? 0 : 1;
    }

    static string Millions(nn.Module model) => $"{model.parameters().Sum(p => p.numel()) / 1e6:F1}M";
}
