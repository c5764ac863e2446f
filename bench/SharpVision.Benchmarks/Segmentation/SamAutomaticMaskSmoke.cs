using System.Diagnostics;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Segmentation.Sam;
using TorchSharp;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// The automatic mask generator's test card and smoke run. Its timing against segment-anything's generator is
/// <see cref="SamSideBySideBenchmarks.TimeOnce"/>: one call takes minutes at 32×32 points, longer than BenchmarkDotNet's
/// in-process runner allows a benchmark (five minutes), so it is not a BenchmarkDotNet class.
/// </summary>
public static class SamAutomaticMaskSmoke
{
    const int Height = 768, Width = 1024;

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
    /// and NMS stages) and one on vit_t at 1024², printing time, masks and peak memory: shows the generator's benchmark path runs.
    /// </summary>
    public static int Run()
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
