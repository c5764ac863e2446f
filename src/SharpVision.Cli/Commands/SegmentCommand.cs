using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Segmentation.Sam;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision segment</c>: Segment Anything on one image with point and box prompts.</summary>
public sealed class SegmentCommand : ICommand, IHasFlags
{
    public string Name => "segment";
    public string Summary => "Segment Anything: mask an image from point/box prompts with an official-format checkpoint";
    public string Usage => """
        sharpvision segment --checkpoint FILE [--model-type vit_b|vit_l|vit_h | --config sam_config.json]
                            --image in.png [--point X,Y[,LABEL]]... [--box X0,Y0,X1,Y1] [--multimask]
                            --out mask.png

          --checkpoint FILE  a torch.save'd SAM state_dict (e.g. sam_vit_b_01ec64.pth)
          --config FILE      build sizes for a custom model (the fields of the fixtures' sam_config.json)
          --point X,Y[,L]    a prompt point in pixels; L = 1 foreground (default) or 0 background; repeatable
          --box X0,Y0,X1,Y1  a box prompt in pixels
          --multimask        predict three masks and keep the one with the best predicted IoU

        Writes the best mask to --out and the image with the mask, points and box drawn over it beside it
        (NAME.overlay.png), and prints each mask's predicted IoU.
        """;

    public IEnumerable<string> Flags => ["multimask"];

    public int Run(Arguments args)
    {
        var checkpoint = args.Required("checkpoint");
        var configPath = args.Option("config");
        var modelType = args.Option("model-type");
        if (configPath is not null && modelType is not null) throw new UsageException("give --model-type or --config, not both");
        var imagePath = args.Required("image");
        var outPath = args.Required("out");
        var points = args.All("point").Select(ParsePoint).ToList();
        var boxText = args.Option("box");
        (double, double, double, double)? box = boxText is null ? null : ParseBox(boxText);
        bool multimask = args.Flag("multimask");
        args.RejectUnknown();
        if (points.Count == 0 && box is null) throw new UsageException("give at least one --point or a --box");

        var config = configPath is not null ? SamConfig.Load(configPath) : SamConfig.ForModelType(modelType ?? "vit_b");
        var (rgb, height, width) = Images.LoadRgb(imagePath);
        using var noGrad = torch.no_grad();
        using var model = Sam.FromCheckpoint(checkpoint, config);
        using var predictor = new SamPredictor(model);
        predictor.SetImage(rgb, height, width, "RGB");
        using var prediction = predictor.Predict(
            points.Count > 0 ? points.Select(p => (p.X, p.Y)).ToList() : null,
            points.Count > 0 ? points.Select(p => p.Label).ToList() : null,
            box, multimaskOutput: multimask);

        var scores = prediction.IouPredictions.to(torch.ScalarType.Float64).data<double>().ToArray();
        int best = Array.IndexOf(scores, scores.Max());
        for (int i = 0; i < scores.Length; i++)
            args.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mask {i}: predicted IoU {scores[i]:F4}{(i == best ? "  (written)" : "")}"));
        var mask = prediction.Masks[best].contiguous().data<bool>().ToArray();
        Images.SaveMask(mask, height, width, outPath);
        var overlay = Path.ChangeExtension(outPath, null) + ".overlay.png";
        Images.SaveOverlay(rgb, height, width, mask, overlay,
            points.Select(p => ((float)p.X, (float)p.Y, p.Label)).ToList(),
            box is { } b ? ((float)b.Item1, (float)b.Item2, (float)b.Item3, (float)b.Item4) : null);
        args.Out.WriteLine($"wrote {outPath} and {overlay}");
        return 0;
    }

    static (double X, double Y, int Label) ParsePoint(string text)
    {
        var parts = text.Split(',');
        if (parts.Length is not (2 or 3)) throw new UsageException($"--point must be X,Y or X,Y,LABEL; got '{text}'");
        double x = Number(parts[0], "--point"), y = Number(parts[1], "--point");
        int label = parts.Length == 3 ? (int)Number(parts[2], "--point label") : 1;
        return (x, y, label);
    }

    static (double, double, double, double) ParseBox(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 4) throw new UsageException($"--box must be X0,Y0,X1,Y1; got '{text}'");
        return (Number(parts[0], "--box"), Number(parts[1], "--box"), Number(parts[2], "--box"), Number(parts[3], "--box"));
    }

    static double Number(string s, string what) =>
        double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new UsageException($"{what}: '{s}' is not a number");
}
