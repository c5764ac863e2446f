using BenchmarkDotNet.Running;
using SharpVision.Benchmarks.Diffusion;
using SharpVision.Benchmarks.Segmentation;

// Run one area with e.g. `dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*Norm*' --job short`.
// Stable Diffusion 1.5 console entries (a fresh process each, not BenchmarkDotNet): `-- --sd-smoke` builds it from the
// configuration folder with random weights and runs one step end to end; `-- --sd-memory [steps]` prints the peak memory.
// `-- --sam-encoder-profile [fp32|bf16]` prints where the vit_b encoder's time goes, per kind of operation.
// `-- --mobilesam-encoder-profile` does the same for MobileSAM's vit_t (TinyViT) encoder, per module type.
// `-- --sam-decoder-profile [fp32|bf16]` times the prompt encoder, the mask decoder and its parts for one prompt.
// `-- --sam-bf16-error` prints the bf16 error against fp32 of the vit_b encoder and of the decoder.
// `-- --sam-amg-smoke` runs the automatic mask generator once on a tiny model and on vit_t (random weights).
switch (args)
{
    case ["--sd-smoke"]:
        return StableDiffusionSmoke.Run(steps: 1);
    case ["--sam-amg-smoke"]:
        return SamAutomaticMaskSmoke.Run();
    case ["--sam-encoder-profile"]:
        return SamEncoderProfile.Run("fp32");
    case ["--sam-encoder-profile", var dtype]:
        return SamEncoderProfile.Run(dtype);
    case ["--sam-encoder-profile", var dtype, var chunk] when int.TryParse(chunk, out int queries):
        return SamEncoderProfile.Run(dtype, queries);
    case ["--sam-encoder-profile", var dtype, var chunk, var sdpa] when int.TryParse(chunk, out int queries):
        return SamEncoderProfile.Run(dtype, queries, sdpa);
    case ["--mobilesam-encoder-profile"]:
        return MobileSamEncoderProfile.Run();
    case ["--sam-decoder-profile"]:
        return SamDecoderProfile.Run("fp32");
    case ["--sam-decoder-profile", var dtype]:
        return SamDecoderProfile.Run(dtype);
    case ["--sam-decoder-profile", var dtype, "sdpa"]:
        return SamDecoderProfile.Run(dtype, sdpa: true);
    case ["--sam-side-by-side-once", var measurement]:
        return SamSideBySideBenchmarks.TimeOnce(measurement);
    case ["--sam-side-by-side-once", var measurement, var n] when int.TryParse(n, out int calls) && calls >= 1:
        return SamSideBySideBenchmarks.TimeOnce(measurement, calls);
    case ["--sam-bf16-error"]:
        return SamSideBySideBenchmarks.ReportBf16Error();
    case ["--sd-memory"]:
        return StableDiffusionSmoke.Run(steps: 2);
    case ["--sd-memory", var n]:
        if (int.TryParse(n, out int steps) && steps >= 1) return StableDiffusionSmoke.Run(steps);
        Console.Error.WriteLine($"--sd-memory takes a step count >= 1; got '{n}'");
        return 2;
}

// Benchmarks run in-process: the project BenchmarkDotNet would generate and build for a child process does not
// get the build step that makes libLibTorchSharp.so load on Debian 12 (build/TorchSharpGlibcxx.targets).
if (!args.Contains("--inProcess", StringComparer.OrdinalIgnoreCase)) args = [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
