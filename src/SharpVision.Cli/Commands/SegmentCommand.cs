using System.CommandLine;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Hardware;
using SharpVision.Nn;
using SharpVision.Segmentation.Sam;
using TorchSharp;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision segment</c>: Segment Anything on one image with point and box prompts, or every mask of it (<c>--auto</c>).</summary>
public sealed class SegmentCommand : ICommand
{
    public string Name => "segment";
    public string Summary => "Segment Anything: mask an image from point/box prompts, or all of it (--auto), with an official-format checkpoint";
    public string Notes => """
        sharpvision segment --checkpoint FILE [--model-type T | --config FILE] --image in.png [--point X,Y[,L]]... [--box X0,Y0,X1,Y1] [--multimask] --out mask.png
        sharpvision segment --checkpoint FILE [--model-type T | --config FILE] --embed in.png --out emb.safetensors
        sharpvision segment --checkpoint FILE [--model-type T | --config FILE] --embedding emb.safetensors [--image in.png] [--point X,Y[,L]]... --out mask.png
        sharpvision segment --checkpoint FILE [--model-type T | --config FILE] --auto in.png --out masks.json [--points-per-side 32] ...

        Writes the best mask to --out and, when the image is given, the image with the mask, points and box drawn
        over it beside it (NAME.overlay.png), and prints each mask's predicted IoU. With --auto, writes the masks'
        JSON to --out and every mask in its own colour over the image beside it (NAME.overlay.png).
        """;

    static readonly Option<string> Checkpoint = Opt.Text("--checkpoint", "FILE",
        "a torch.save'd SAM state_dict (e.g. sam_vit_b_01ec64.pth, MobileSAM's mobile_sam.pt)");
    static readonly Option<bool> RandomWeights = Opt.Flag("--random-weights",
        "instead of --checkpoint: freshly initialised weights (--seed S, 0), for timing runs");
    static readonly Option<string> ModelType = Opt.Text("--model-type", "T", "vit_b (default), vit_l, vit_h or vit_t (MobileSAM)").Suggest("vit_b", "vit_l", "vit_h", "vit_t");
    static readonly Option<string> Config = Opt.Text("--config", "FILE",
        "build sizes for a custom model (the fields of the fixtures' sam_config.json)");
    static readonly Option<string> Dtype = Opt.Text("--dtype", "D",
        "fp32 (default) or bf16; prints the CPU's bf16 path and warns when it has none", "fp32").Suggest("fp32", "bf16");
    static readonly Option<string[]> Point = Opt.Repeated("--point", "X,Y[,L]",
        "a prompt point in pixels; L = 1 foreground (default) or 0 background; repeatable");
    static readonly Option<string> Box = Opt.Text("--box", "X0,Y0,X1,Y1", "a box prompt in pixels");
    static readonly Option<bool> Multimask = Opt.Flag("--multimask", "predict three masks and keep the one with the best predicted IoU");
    static readonly Option<string> Embed = Opt.Text("--embed", "IMAGE",
        "run the image encoder once and save the embedding (safetensors) to --out");
    static readonly Option<string> Embedding = Opt.Text("--embedding", "FILE",
        "answer the prompts from a saved embedding instead of encoding --image");
    static readonly Option<int> Seed = Opt.Int("--seed", "random seed", 0);
    static readonly Option<string> Image = Opt.Text("--image", "FILE", "the image to segment (PNG)");
    static readonly Option<string> Out = Opt.Required("--out", "FILE",
        "the mask PNG; with --embed the embedding, with --auto the masks' JSON");
    public IEnumerable<Symbol> Symbols => [Checkpoint, ModelType, Config, Image, Point, Box, Multimask, Out, Embed, Embedding, RandomWeights, Dtype, Seed, .. SegmentAuto.Symbols];

    public int Run(ParseResult args)
    {
        var checkpoint = args.GetValue(Checkpoint);
        bool randomWeights = args.GetValue(RandomWeights);
        if ((checkpoint is null) == !randomWeights) throw new UsageException("give --checkpoint FILE or --random-weights (one of them)");
        int seed = args.GetValue(Seed);
        var dtype = args.GetValue(Dtype)! switch
        {
            "fp32" => torch.ScalarType.Float32,
            "bf16" => torch.ScalarType.BFloat16,
            var d => throw new UsageException($"--dtype must be fp32 or bf16; got '{d}'"),
        };
        var configPath = args.GetValue(Config);
        var modelType = args.GetValue(ModelType);
        if (configPath is not null && modelType is not null) throw new UsageException("give --model-type or --config, not both");
        var embedImage = args.GetValue(Embed);
        var embeddingPath = args.GetValue(Embedding);
        if (embedImage is not null && embeddingPath is not null) throw new UsageException("give --embed or --embedding, not both");
        var imagePath = args.GetValue(Image);
        var outPath = args.GetValue(Out)!;
        var points = args.GetValue(Point)!.Select(ParsePoint).ToList();
        var boxText = args.GetValue(Box);
        (double, double, double, double)? box = boxText is null ? null : ParseBox(boxText);
        bool multimask = args.GetValue(Multimask);
        var autoImage = args.GetValue(SegmentAuto.Auto);
        var autoOptions = autoImage is null ? null : SegmentAuto.Parse(args);
        if (autoImage is not null && (imagePath ?? embedImage ?? embeddingPath) is not null || autoImage is not null && (points.Count > 0 || box is not null || multimask))
            throw new UsageException("--auto takes the image itself and no prompts; leave out --image, --embed, --embedding, --point, --box and --multimask");
        if (embedImage is not null && (imagePath is not null || points.Count > 0 || box is not null || multimask))
            throw new UsageException("--embed only encodes an image; give --image and prompts to a later run with --embedding");
        if (autoImage is null && embedImage is null && points.Count == 0 && box is null) throw new UsageException("give at least one --point or a --box");
        if (autoImage is null && embedImage is null && embeddingPath is null && imagePath is null) throw new UsageException("--image is required (or --embedding)");

        var config = configPath is not null ? SamConfig.Load(configPath) : SamConfig.ForModelType(modelType ?? "vit_b");
        // Check a saved embedding against the model before loading the checkpoint: a mismatch is the user's to fix.
        if (embeddingPath is not null) SamImageEmbedding.Read(embeddingPath).CheckMatches(config, embeddingPath);
        var image = autoImage ?? embedImage ?? imagePath;
        var (rgb, height, width) = image is null ? (null, 0, 0) : Images.LoadRgb(image);
        if (dtype == torch.ScalarType.BFloat16)
        {
            args.Out.WriteLine(CpuFeatures.Current.Describe());
            if (CpuFeatures.Current.Bf16Warning() is { } warning) args.Error.WriteLine(warning);
        }
        // One image through the encoder: its large tensors come from glibc's heap, reused instead of page-faulted in afresh
        // (vit_b fp32 11.8 -> 8.2 s). Not for --auto, whose batches of 64 prompts fragment a never-trimmed heap to 19 GiB.
        if (autoImage is null) SharpVision.Nn.Memory.NativeHeap.KeepFreedBlocksForReuse();
        using var noGrad = torch.no_grad();
        using var model = LoadModel(checkpoint, seed, config, dtype);
        if (autoImage is not null) return SegmentAuto.Run(model, rgb!, height, width, autoOptions!, autoImage, outPath, args.Out);
        using var predictor = new SamPredictor(model);
        if (embeddingPath is not null)
        {
            predictor.LoadImageEmbedding(embeddingPath);
            if (rgb is not null && (height, width) != predictor.OriginalSize)
                throw new UsageException($"--image is {width}x{height} but {embeddingPath} was computed from a {predictor.OriginalSize.W}x{predictor.OriginalSize.H} image");
            (height, width) = predictor.OriginalSize;
        }
        else predictor.SetImage(rgb!, height, width, "RGB");
        if (embedImage is not null)
        {
            predictor.SaveImageEmbedding(outPath);
            args.Out.WriteLine($"wrote {outPath}: the {Shapes.Format(predictor.GetImageEmbedding())} embedding of {embedImage} ({width}x{height}, {config.ModelType ?? "custom model"})");
            return 0;
        }
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
        if (rgb is null)
        {
            args.Out.WriteLine($"wrote {outPath}");
            return 0;
        }
        var overlay = Path.ChangeExtension(outPath, null) + ".overlay.png";
        Images.SaveOverlay(rgb, height, width, mask, overlay,
            points.Select(p => ((float)p.X, (float)p.Y, p.Label)).ToList(),
            box is { } b ? ((float)b.Item1, (float)b.Item2, (float)b.Item3, (float)b.Item4) : null);
        args.Out.WriteLine($"wrote {outPath} and {overlay}");
        return 0;
    }

    /// <summary>The checkpoint's model, or fresh weights from <paramref name="seed"/> when there is none, in <paramref name="dtype"/>.</summary>
    static SamModel LoadModel(string? checkpoint, int seed, SamConfig config, torch.ScalarType dtype)
    {
        if (checkpoint is null) torch.manual_seed(seed);
        var model = checkpoint is null ? SamModel.Build(config) : SamModel.FromCheckpoint(checkpoint, config);
        if (dtype != torch.ScalarType.Float32) model.to(dtype);
        return model;
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
