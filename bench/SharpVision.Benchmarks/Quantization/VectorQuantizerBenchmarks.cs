using BenchmarkDotNet.Attributes;
using SharpVision.Diffusion.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Quantization;

/// <summary>
/// Vector quantisation of 65,536 vectors of dimension 64 against 1,024 codes: the quantizer's forward and backward
/// (chunked search, 8,192 rows at a time, and the same with one chunk), its search alone, and the plain
/// <c>cdist</c> + <c>argmin</c> baseline that forms the whole 65,536 × 1,024 distance matrix.
/// </summary>
/// <remarks>
/// [MemoryDiagnoser] sees managed memory only; libtorch allocates natively. Each iteration therefore resets the
/// process's peak resident set (writing 5 to /proc/self/clear_refs, Linux) and reads VmHWM after it: the largest
/// peak-minus-start over the iterations is printed as "peak RSS delta" in the log. Run with
/// <c>MALLOC_MMAP_THRESHOLD_=1048576</c>: otherwise glibc raises its mmap threshold after the first large free and
/// keeps later 32 MiB blocks in the heap, where their pages count in the start RSS and the delta understates.
/// In-process (<c>--inProcess</c>), since BenchmarkDotNet's generated project does not get the LibTorchSharp
/// GLIBCXX patch. For reference, the float32 distance matrix is 65,536 × 1,024 × 4 B = 256 MiB whole and
/// 8,192 × 1,024 × 4 B = 32 MiB per chunk.
/// Run: <c>MALLOC_MMAP_THRESHOLD_=1048576 dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*VectorQuantizer*' --job short --inProcess</c>
/// </remarks>
[MemoryDiagnoser]
public class VectorQuantizerBenchmarks
{
    const int Vectors = 65_536, Dim = 64, Codes = 1_024;

    VectorQuantizer chunked = null!, unchunked = null!;
    Tensor z = null!, upstream = null!, flat = null!;
    long startRss, peakDelta;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        chunked = new VectorQuantizer(Codes, Dim, new VectorQuantizerOptions { Legacy = false }, g);
        unchunked = new VectorQuantizer(Codes, Dim, new VectorQuantizerOptions { Legacy = false, ChunkSize = Vectors }, g);
        using (torch.no_grad())
        {
            // Codes spread like the inputs, so assignments are not all to one code.
            var codebook = randn([Codes, Dim], generator: g);
            chunked.Codebook.copy_(codebook);
            unchunked.Codebook.copy_(codebook);
        }
        z = randn([16, Dim, 64, 64], generator: g);                  // (16, 64, 64, 64): 65,536 vectors
        upstream = randn([16, Dim, 64, 64], generator: g);
        flat = z.permute(0, 2, 3, 1).reshape(-1, Dim).contiguous();  // (65536, 64)
    }

    [IterationSetup]
    public void ResetPeak()
    {
        File.WriteAllText("/proc/self/clear_refs", "5"); // peak RSS := current RSS
        startRss = ReadStatusKb("VmRSS");
    }

    [IterationCleanup]
    public void RecordPeak() => peakDelta = Math.Max(peakDelta, ReadStatusKb("VmHWM") - startRss);

    [GlobalCleanup]
    public void Report()
    {
        Console.WriteLine($"// peak RSS delta: {peakDelta / 1024.0:F1} MiB");
        foreach (var t in new[] { z, upstream, flat }) t.Dispose();
        chunked.Dispose();
        unchunked.Dispose();
    }

    static long ReadStatusKb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim());
        return 0;
    }

    static float ForwardBackward(VectorQuantizer vq, Tensor input, Tensor grad)
    {
        using var scope = torch.NewDisposeScope();
        vq.zero_grad();
        var leaf = input.detach().requires_grad_(true);
        var output = vq.forward(leaf);
        ((output.Quantized * grad).sum() + output.Loss).backward();
        return output.Loss.item<float>();
    }

    [Benchmark(Description = "quantizer fwd+bwd, chunks of 8192")]
    public float QuantizerChunked() => ForwardBackward(chunked, z, upstream);

    [Benchmark(Description = "quantizer fwd+bwd, one chunk")]
    public float QuantizerOneChunk() => ForwardBackward(unchunked, z, upstream);

    [Benchmark(Description = "chunked search only")]
    public long SearchChunked()
    {
        using var scope = torch.NewDisposeScope();
        return CodebookSearch.Nearest(flat, chunked.Codebook).sum().item<long>();
    }

    [Benchmark(Baseline = true, Description = "cdist + argmin")]
    public long CdistArgmin()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return torch.cdist(flat, chunked.Codebook).argmin(1).sum().item<long>();
    }
}
