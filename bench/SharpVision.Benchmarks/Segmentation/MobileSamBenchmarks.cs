using BenchmarkDotNet.Attributes;
using SharpVision.Nn.Flops;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// MobileSAM's vit_t image encoder (TinyViT, random weights) on one 1024×1024 image, float32, inference only
/// (no_grad): the cost SAM's vit_b encoder (<see cref="SamEncoderBenchmarks"/>) is replaced by. Prints the
/// encoder's multiply-accumulates (<see cref="FlopCounter"/>, 38.8 G) in the setup. Run with
/// <c>--job short</c> (BenchmarkDotNet's generated project does not find libtorch's native package, so runs are in-process).
/// </summary>
[MemoryDiagnoser(false)]
public class MobileSamEncoderBenchmarks
{
    SamModel sam = null!;
    Tensor input = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        sam = SamModel.Build(SamConfig.VitT);
        input = randn(1, 3, 1024, 1024);
        var count = FlopCounter.Count(sam.image_encoder, input);
        Console.WriteLine($"// vit_t encoder at 1024x1024: {count.MultiplyAccumulates:N0} multiply-accumulates ({count.Flops / 1e9:F1} GFLOPs); " +
                          string.Join(", ", count.Grouped(2).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value / 1e9:F2} G")));
    }

    [Benchmark]
    public long Encode()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return sam.image_encoder.call(input).shape[1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        input.Dispose();
        sam.Dispose();
    }
}
