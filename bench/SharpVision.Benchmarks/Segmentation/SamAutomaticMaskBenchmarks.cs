using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Segmentation.Sam;
using TorchSharp;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// <see cref="SamAutomaticMaskGenerator"/> with the reference's defaults (32×32 points, 64 per batch, IoU 0.88,
/// stability 0.95, no crops) on one 1024×768 image, vit_b and vit_t with random weights, fp32: the whole generate call,
/// encoder included, and the peak resident set (VmHWM) over the runs, printed at the end. Heavy (a vit_b encoder call and
/// 16 decoder batches per run): <c>--filter '*SamAutomaticMask*' --job dry</c> or <c>--job short</c>. For a one-call
/// smoke on a tiny model, <c>-- --sam-amg-smoke</c> (<see cref="Smoke"/>).
/// </summary>
[MemoryDiagnoser(false)]
public class SamAutomaticMaskBenchmarks
{
    const int Height = 768, Width = 1024;
    SamModel sam = null!;
    SamAutomaticMaskGenerator generator = null!;
    byte[] image = null!;
    int masks;

    [Params("vit_b", "vit_t")]
    public string ModelType { get; set; } = "vit_b";

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        sam = SamModel.Build(SamConfig.ForModelType(ModelType));
        generator = new SamAutomaticMaskGenerator(sam);
        image = Scene(Height, Width);
        ProcStatus.TryResetPeak();
        Console.WriteLine("// " + SharpVision.Nn.Hardware.CpuFeatures.Current.Describe());
    }

    [Benchmark]
    public int Generate()
    {
        var records = generator.Generate(image, Height, Width);
        foreach (var r in records) r.Dispose();
        return masks = records.Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// {ModelType}: {masks} masks kept; {ProcStatus.PeakLine()}");
        sam.Dispose();
    }

    /// <summary>An RGB test card: a gradient with a few flat rectangles and discs, so masks have edges to find.</summary>
    public static byte[] Scene(int height, int width)
    {
        var rgb = new byte[height * width * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                (byte r, byte g, byte b) = ((byte)(x * 255 / width), (byte)(y * 255 / height), 90);
                if (x > width / 8 && x < width * 3 / 8 && y > height / 6 && y < height / 2) (r, g, b) = (230, 40, 40);
                int dx = x - width * 2 / 3, dy = y - height * 2 / 3;
                if (dx * dx + dy * dy < height * height / 25) (r, g, b) = (30, 60, 220);
                if (x > width / 2 && y < height / 4) (r, g, b) = (240, 240, 240);
                (rgb[i], rgb[i + 1], rgb[i + 2]) = (r, g, b);
            }
        return rgb;
    }

    /// <summary>
    /// One generate call on a tiny random model (image 64, 8×8 points, thresholds 0 so masks reach the run-length
    /// and NMS stages) and one on vit_t at 1024², printing time, masks and peak memory: shows the benchmark's code runs.
    /// </summary>
    public static int Smoke()
    {
        torch.manual_seed(0);
        var tiny = new SamConfig
        {
            ImageSize = 64, PatchSize = 8, EncoderEmbedDim = 32, EncoderDepth = 2, EncoderNumHeads = 2, EncoderGlobalAttnIndexes = [1],
            WindowSize = 4, PromptEmbedDim = 32, MaskInChans = 4, DecoderMlpDim = 64, DecoderNumHeads = 2, IouHeadHiddenDim = 32,
        };
        foreach (var (name, config, side) in new[] { ("tiny", tiny, 8), ("vit_t", SamConfig.VitT, 4) })
        {
            using var model = SamModel.Build(config);
            var generator = new SamAutomaticMaskGenerator(model, pointsPerSide: side, pointsPerBatch: 16, predIouThresh: 0, stabilityScoreThresh: 0);
            var clock = Stopwatch.StartNew();
            var records = generator.Generate(Scene(Height, Width), Height, Width);
            Console.WriteLine($"// {name}, {side}x{side} points: {records.Count} masks in {clock.Elapsed.TotalSeconds:F2} s; {ProcStatus.PeakLine()}");
            foreach (var r in records) r.Dispose();
            if (records.Count == 0) return 1;
        }
        return 0;
    }
}
