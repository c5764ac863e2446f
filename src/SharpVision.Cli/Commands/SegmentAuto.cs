using System.Diagnostics;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Experiments.Output;
using SharpVision.Segmentation.Sam;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision segment --auto IMAGE</c>: every mask of an image from a grid of point prompts
/// (<see cref="SamAutomaticMaskGenerator"/>), written as segment-anything's scripts/amg.py writes them, plus an overlay.
/// </summary>
static class SegmentAuto
{
    /// <summary>The generator settings, named as amg.py's options.</summary>
    public sealed record Options(int PointsPerSide, int PointsPerBatch, double PredIouThresh, double StabilityScoreThresh,
        int CropNLayers, int MinMaskRegionArea, SamOutputMode OutputMode);

    public const string Usage = """
          --auto IMAGE             every mask of IMAGE from a grid of point prompts; --out masks.json (amg.py's records)
          --points-per-side N      grid points per side (32)
          --points-per-batch N     points decoded together (64)
          --pred-iou-thresh X      minimum predicted IoU (0.88)
          --stability-score-thresh X  minimum stability score (0.95)
          --crop-n-layers N        layers of overlapping crops (0)
          --min-mask-region-area N remove holes and islands under N pixels (0)
          --output-mode M          coco_rle (default), uncompressed_rle, or binary_mask (one PNG per mask in NAME.masks/)
        """;

    /// <summary>Reads the automatic-mask options (defaults are the reference's).</summary>
    public static Options Parse(Arguments args)
    {
        var mode = args.Option("output-mode") ?? "coco_rle";
        SamOutputMode outputMode;
        try { outputMode = SamOutputModes.Parse(mode); }
        catch (ArgumentException) { throw new UsageException($"--output-mode must be coco_rle, uncompressed_rle or binary_mask; got '{mode}'"); }
        return new Options(
            args.Int("points-per-side", 32, min: 1, max: 1024), args.Int("points-per-batch", 64, min: 1, max: 65536),
            args.Double("pred-iou-thresh", 0.88, min: 0, max: 1), args.Double("stability-score-thresh", 0.95, min: 0, max: 1),
            args.Int("crop-n-layers", 0, min: 0, max: 4), args.Int("min-mask-region-area", 0, min: 0), outputMode);
    }

    /// <summary>Generates the masks, writes the JSON to <paramref name="outPath"/> and NAME.overlay.png beside it.</summary>
    public static int Run(SamModel model, byte[] rgb, int height, int width, Options o, string imagePath, string outPath, TextWriter stdout)
    {
        var generator = new SamAutomaticMaskGenerator(model, pointsPerSide: o.PointsPerSide, pointsPerBatch: o.PointsPerBatch,
            predIouThresh: o.PredIouThresh, stabilityScoreThresh: o.StabilityScoreThresh, cropNLayers: o.CropNLayers,
            minMaskRegionArea: o.MinMaskRegionArea, outputMode: o.OutputMode);
        var clock = Stopwatch.StartNew();
        int batches = 0;
        var records = generator.Generate(rgb, height, width, n => batches = n);
        double seconds = clock.Elapsed.TotalSeconds;
        try
        {
            var stem = Path.ChangeExtension(outPath, null);
            List<string>? maskFiles = null;
            if (o.OutputMode == SamOutputMode.BinaryMask)
            {
                var dir = stem + ".masks";
                Directory.CreateDirectory(dir);
                maskFiles = [];
                for (int i = 0; i < records.Count; i++)
                {
                    Images.SaveMask(records[i].Rle.ToMask(), height, width, Path.Combine(dir, $"{i}.png"));
                    maskFiles.Add(Path.Combine(Path.GetFileName(dir), $"{i}.png"));
                }
            }
            MaskRecordsJson.Write(records, outPath, maskFiles);
            var overlay = stem + ".overlay.png";
            // Largest first, so small masks stay visible on top.
            Images.SaveMasksOverlay(rgb, height, width, records.OrderByDescending(r => r.Area).Select(r => r.Rle.ToMask()), overlay);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{records.Count} masks of {imagePath} ({width}x{height}) from {o.PointsPerSide}x{o.PointsPerSide} points in {batches} decoder batches, {seconds:F2} s"));
            stdout.WriteLine($"wrote {outPath} ({o.OutputMode.ToName()}) and {overlay}");
            return 0;
        }
        finally
        {
            foreach (var r in records) r.Dispose();
        }
    }
}
