using System.Diagnostics;
using System.CommandLine;
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

    public static readonly Option<string> Auto = Opt.Text("--auto", "IMAGE",
        "every mask of IMAGE from a grid of point prompts; --out masks.json (amg.py's records)");
    static readonly Option<int> PointsPerSide = Opt.Int("--points-per-side", "grid points per side", 32, min: 1, max: 1024);
    static readonly Option<int> PointsPerBatch = Opt.Int("--points-per-batch", "points decoded together", 64, min: 1, max: 65536);
    static readonly Option<double> PredIouThresh = Opt.Double("--pred-iou-thresh", "minimum predicted IoU", 0.88, min: 0, max: 1);
    static readonly Option<double> StabilityScoreThresh = Opt.Double("--stability-score-thresh", "minimum stability score", 0.95, min: 0, max: 1);
    static readonly Option<int> CropNLayers = Opt.Int("--crop-n-layers", "layers of overlapping crops", 0, min: 0, max: 4);
    static readonly Option<int> MinMaskRegionArea = Opt.Int("--min-mask-region-area", "remove holes and islands under N pixels", 0, min: 0);
    static readonly Option<string> OutputMode = Opt.Text("--output-mode", "M",
        "coco_rle, uncompressed_rle, or binary_mask (one PNG per mask in NAME.masks/)", "coco_rle").Suggest("coco_rle", "uncompressed_rle", "binary_mask");

    /// <summary>The options of <c>segment --auto</c>.</summary>
    public static IEnumerable<Symbol> Symbols => [Auto, PointsPerSide, PointsPerBatch, PredIouThresh, StabilityScoreThresh, CropNLayers, MinMaskRegionArea, OutputMode];

    /// <summary>Reads the automatic-mask options (defaults are the reference's).</summary>
    public static Options Parse(ParseResult args)
    {
        var mode = args.GetValue(OutputMode)!;
        SamOutputMode outputMode;
        try { outputMode = SamOutputModes.Parse(mode); }
        catch (ArgumentException) { throw new UsageException($"--output-mode must be coco_rle, uncompressed_rle or binary_mask; got '{mode}'"); }
        return new Options(
            args.GetValue(PointsPerSide), args.GetValue(PointsPerBatch),
            args.GetValue(PredIouThresh), args.GetValue(StabilityScoreThresh),
            args.GetValue(CropNLayers), args.GetValue(MinMaskRegionArea), outputMode);
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
