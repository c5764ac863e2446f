using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision generate</c>: Stable Diffusion from a prompt on a diffusers pipeline folder — text-to-image,
/// image-to-image (<c>--init-image</c>) or under ControlNets (<c>--controlnet</c>) — written as PNG with the
/// generation parameters in a <c>parameters</c> text chunk.
/// </summary>
public sealed class GenerateCommand : ICommand
{
    public string Name => "generate";
    public string Summary => "Stable Diffusion from a prompt (text-to-image, --init-image, --controlnet/--canny); PNG with its parameters";
    public string Notes => """
        The PNG carries a 'parameters' text chunk in the Stable Diffusion web UI's format (prompt, negative prompt,
        steps, sampler, CFG scale, seed, size, model).
        """;

    static readonly Option<string> Model = Opt.Required("--model", "DIR",
        "a diffusers Stable Diffusion folder (model_index.json, tokenizer/, text_encoder/, unet/, vae/, " +
        "scheduler/)");
    static readonly Option<string> Prompt = Opt.Required("--prompt", "TEXT",
        "cut to CLIP's 77 tokens; what is dropped is quoted in a warning on stderr");
    static readonly Option<string> Out = Opt.Required("--out", "FILE.png", "the PNG (numbered files with --batch N > 1)");
    static readonly Option<string> NegativePrompt = Opt.Text("--negative-prompt", "TEXT",
        "what classifier-free guidance steers away from (default: the empty prompt)");
    static readonly Option<int> Steps = Opt.Int("--steps",
        "denoising steps (with --init-image only the last int(N * strength) run)", 50, min: 1, max: 1000);
    static readonly Option<double> Guidance = Opt.Double("--guidance", "classifier-free guidance scale (1 or less: no guidance)", 7.5, min: 0, max: 100, metavar: "G");
    static readonly Option<int?> Seed = Opt.OptionalInt("--seed",
        "seeds torch.Generator().manual_seed(S) as diffusers does (default: a random seed, reported)", min: 0, metavar: "S");
    static readonly Option<int?> Width = Opt.OptionalInt("--width",
        "image width, a multiple of 8 (default: the UNet's sample_size x 8, or the control image's)", min: 1, max: 8192, metavar: "W");
    static readonly Option<int?> Height = Opt.OptionalInt("--height", "image height, a multiple of 8 (given with --width)", min: 1, max: 8192, metavar: "H");
    static readonly Option<string> Scheduler = Opt.Text("--scheduler", "NAME",
        "a scheduler class on the folder's noise schedule (default: the folder's own), e.g. DDIMScheduler")
        .Suggest(SchedulerFactory.ClassNames);
    static readonly Option<int> ClipSkipOption = Opt.Int("--clip-skip",
        "take the text encoder's states K layers before the last (diffusers' clip_skip)", 0, min: 0, max: 100, metavar: "K");
    static readonly Option<int> BatchOption = Opt.Int("--batch",
        "images from one prompt; N > 1 writes numbered files (out.png: out-1.png ... out-N.png), no grid", 1, min: 1, max: 64);
    static readonly Option<string> Dtype = Opt.Text("--dtype", "TYPE", "fp32 or bf16 for every model", "fp32").Suggest("fp32", "bf16");
    static readonly Option<string> InitImage = Opt.Text("--init-image", "FILE",
        "image-to-image from FILE (its size, rounded down to a multiple of 8)");
    static readonly Option<double> Strength = Opt.Double("--strength", "with --init-image: how much of the schedule runs, in [0, 1]", 0.8, min: 0, max: 1);
    static readonly Option<string> Controlnet = Opt.Text("--controlnet", "DIRS",
        "ControlNet model folders (config.json + diffusion_pytorch_model.safetensors), comma-separated");
    static readonly Option<string> Control = Opt.Text("--control", "FILES", "one condition image per ControlNet, RGB in [0, 255]");
    static readonly Option<string> CannyOption = Opt.Text("--canny", "FILE",
        "the condition is cv2.Canny(FILE, 100, 200), also written beside the output (out.png: out.canny.png)");
    static readonly Option<string> ControlScale = Opt.Text("--control-scale", "X[,X]",
        "controlnet_conditioning_scale, one for all or one per ControlNet (default 1)");
    static readonly Option<bool> GuessMode = Opt.Flag("--guess-mode",
        "ControlNets see only the prompt half and scale their residuals from 0.1 to 1");
    static readonly Option<double> ControlStart = Opt.Double("--control-start", "fraction of the steps each ControlNet starts at", 0, min: 0, max: 1, metavar: "A");
    static readonly Option<double> ControlEnd = Opt.Double("--control-end", "fraction of the steps each ControlNet stops at", 1, min: 0, max: 1, metavar: "B");
    public IEnumerable<Symbol> Symbols => [Model, Prompt, Out, NegativePrompt, Steps, Guidance, Seed, Width, Height, Scheduler, ClipSkipOption, BatchOption, Dtype,
        InitImage, Strength, Controlnet, Control, CannyOption, ControlScale, GuessMode, ControlStart, ControlEnd];

    public int Run(ParseResult args)
    {
        SharpVision.Nn.Memory.NativeHeap.ReturnLargeBlocksToTheSystem(); // SD 1.5: 6.2 instead of 7.3 GiB peak
        var model = args.GetValue(Model)!;
        var prompt = args.GetValue(Prompt)!;
        var outPath = args.GetValue(Out)!;
        var negative = args.GetValue(NegativePrompt);
        int steps = args.GetValue(Steps);
        double guidance = args.GetValue(Guidance);
        long seed = args.GetValue(Seed) ?? Random.Shared.NextInt64(0, 1L << 32);
        int? width = args.GetValue(Width), height = args.GetValue(Height);
        var schedulerName = args.GetValue(Scheduler);
        int clipSkip = args.GetValue(ClipSkipOption);
        int batch = args.GetValue(BatchOption);
        var dtype = args.GetValue(Dtype)! switch
        {
            "fp32" => ScalarType.Float32,
            "bf16" => ScalarType.BFloat16,
            var d => throw new UsageException($"--dtype must be fp32 or bf16; got '{d}'"),
        };
        var initImage = args.GetValue(InitImage);
        double strength = args.GetValue(Strength);
        var controlnetDirs = List(args.GetValue(Controlnet));
        var controlFiles = List(args.GetValue(Control));
        var cannyFile = args.GetValue(CannyOption);
        var controlScales = Doubles(args, ControlScale);
        bool guessMode = args.GetValue(GuessMode);
        double controlStart = args.GetValue(ControlStart), controlEnd = args.GetValue(ControlEnd);

        if ((width is null) != (height is null)) throw new UsageException("give both --width and --height, or neither");
        if (width is { } w && height is { } h && (w % 8 != 0 || h % 8 != 0 || w <= 0 || h <= 0))
            throw new UsageException($"--width and --height must be positive multiples of 8; got {w}x{h}");
        if (schedulerName is not null && !SchedulerFactory.ClassNames.Contains(schedulerName))
            throw new UsageException($"unknown --scheduler '{schedulerName}'; known: {string.Join(", ", SchedulerFactory.ClassNames)}");
        if (initImage is not null && controlnetDirs.Count > 0) throw new UsageException("--init-image and --controlnet cannot be combined");
        if (initImage is not null && width is not null) throw new UsageException("--width/--height do not apply to --init-image (its own size is used)");
        if (controlnetDirs.Count == 0 && (controlFiles.Count > 0 || cannyFile is not null))
            throw new UsageException("--control and --canny need --controlnet DIR");
        if (controlnetDirs.Count > 0 && (controlFiles.Count > 0) == (cannyFile is not null))
            throw new UsageException("--controlnet needs the condition: --control FILE[,FILE] or --canny FILE (one of them)");
        if (cannyFile is not null && controlnetDirs.Count != 1)
            throw new UsageException($"--canny gives one condition image; {controlnetDirs.Count} ControlNets need --control FILE,FILE");
        if (controlFiles.Count > 0 && controlFiles.Count != controlnetDirs.Count)
            throw new UsageException($"--control lists {controlFiles.Count} images for {controlnetDirs.Count} ControlNets");

        // Name a missing text component before loading the models (a folder saved without them has [null, null]).
        var folder = DiffusersPipelineFolder.Open(model);
        folder.ComponentPath("tokenizer");
        folder.ComponentPath("text_encoder");
        var sampler = schedulerName ?? folder.SchedulerClassName();
        if (!SchedulerFactory.ClassNames.Contains(sampler))
            throw new UsageException($"{model}: the folder's scheduler {sampler} is not supported; choose --scheduler from: {string.Join(", ", SchedulerFactory.ClassNames)}");

        var text = new Dictionary<string, string>();
        var extra = new List<string>();
        if (clipSkip > 0) extra.Add($"Clip skip: {clipSkip + 1}"); // the web UI counts the last layer as 1
        using var generator = new Generator((ulong)seed);
        var watch = Stopwatch.StartNew();
        StableDiffusionOutput output;
        if (initImage is not null)
        {
            var pipe = StableDiffusionImg2ImgPipeline.FromPretrained(model, dtype, schedulerName);
            var image = LoadImage(initImage);
            var options = new StableDiffusionImg2ImgOptions { NumInferenceSteps = steps, GuidanceScale = guidance, ClipSkip = ClipSkip(clipSkip), NumImagesPerPrompt = batch, Strength = strength };
            extra.Add($"Denoising strength: {F(strength)}");
            output = DiffusionCommon.WithSteps("img2img", steps, p => pipe.Call(prompt, negative, image, options, generator, p));
        }
        else if (controlnetDirs.Count > 0)
        {
            var controlnets = controlnetDirs.Select(d => Directory.Exists(d) ? ControlNetModel.FromPretrained(d, dtype)
                : throw new DirectoryNotFoundException($"--controlnet: folder not found: {d}")).ToArray();
            var pipe = ControlNetPipeline(model, controlnetDirs, controlnets, dtype, schedulerName);
            var conditions = cannyFile is not null ? [CannyCondition(cannyFile, outPath)] : controlFiles.Select(LoadImage).ToArray();
            var options = new StableDiffusionControlNetOptions
            {
                NumInferenceSteps = steps, GuidanceScale = guidance, ClipSkip = ClipSkip(clipSkip), NumImagesPerPrompt = batch, Height = height, Width = width,
                ConditioningScales = controlScales, GuessMode = guessMode, ControlGuidanceStart = [controlStart], ControlGuidanceEnd = [controlEnd],
            };
            extra.Add($"ControlNet: {string.Join(" + ", controlnetDirs.Select(d => Path.GetFileName(Path.TrimEndingDirectorySeparator(d))))}" +
                $" (scale {string.Join("/", controlScales.Select(F))}{(guessMode ? ", guess mode" : "")}, {F(controlStart)}-{F(controlEnd)})");
            output = DiffusionCommon.WithSteps("ControlNet", steps, p => pipe.Call(prompt, negative, conditions, options, generator, p));
        }
        else
        {
            var pipe = StableDiffusionPipeline.FromPretrained(model, dtype, schedulerName);
            var options = new StableDiffusionOptions { NumInferenceSteps = steps, GuidanceScale = guidance, ClipSkip = ClipSkip(clipSkip), NumImagesPerPrompt = batch, Height = height, Width = width };
            output = DiffusionCommon.WithSteps("txt2img", steps, p => pipe.Call(prompt, negative, options, generator, p));
        }
        watch.Stop();
        foreach (var warning in output.Warnings) args.Error.WriteLine($"warning: {warning}");

        var images = output.Images!; // (n, 3, H, W) in [0, 1]
        int n = (int)images.shape[0];
        var written = new List<string>();
        for (int k = 0; k < n; k++)
        {
            var path = n == 1 ? outPath : Numbered(outPath, k + 1);
            var batchInfo = n == 1 ? extra : [.. extra, $"Batch size: {n}", $"Batch pos: {k}"];
            text["parameters"] = Parameters(prompt, negative, steps, sampler, guidance, seed, (int)images.shape[3], (int)images.shape[2], model, batchInfo);
            Images.SaveRgb(images[k], path, text);
            written.Add(path);
        }
        args.Out.WriteLine($"{n} image(s) {images.shape[3]}x{images.shape[2]}, {steps} steps of {sampler}, guidance {F(guidance)}, seed {seed} " +
            $"in {watch.Elapsed.TotalSeconds:F1} s");
        args.Out.WriteLine($"Wrote {string.Join(", ", written)}");
        return 0;
    }

    /// <summary>The <c>parameters</c> text of the Stable Diffusion web UI: the prompt, the negative prompt, then one line of settings.</summary>
    public static string Parameters(string prompt, string? negative, int steps, string sampler, double guidance, long seed, int width, int height,
        string model, IEnumerable<string> extra)
    {
        var settings = new List<string>
        {
            $"Steps: {steps}", $"Sampler: {sampler}", $"CFG scale: {F(guidance)}", $"Seed: {seed}", $"Size: {width}x{height}",
            $"Model: {Path.GetFileName(Path.TrimEndingDirectorySeparator(model))}",
        };
        settings.AddRange(extra);
        return prompt + (string.IsNullOrEmpty(negative) ? "" : $"\nNegative prompt: {negative}") + "\n" + string.Join(", ", settings);
    }

    /// <summary>FILE.png → FILE-k.png.</summary>
    public static string Numbered(string path, int k) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{k}{Path.GetExtension(path)}");

    /// <summary>FILE.png → FILE.canny.png, where <c>--canny</c> writes its edge map.</summary>
    public static string CannyPath(string outPath) => Path.ChangeExtension(outPath, ".canny.png");

    static StableDiffusionControlNetPipeline ControlNetPipeline(string model, IReadOnlyList<string> dirs, ControlNetModel[] controlnets,
        ScalarType dtype, string? scheduler)
    {
        try
        {
            return StableDiffusionControlNetPipeline.FromPretrained(model, controlnets, dtype, scheduler);
        }
        catch (ArgumentException e) when (e.ParamName == "controlnets" && e.InnerException is ArgumentException inner)
        {
            // The pipeline's message starts "controlnet K: ", K the index of the one that does not fit.
            var head = e.Message.Split(':')[0].Split(' ');
            int k = head.Length == 2 && int.TryParse(head[1], CultureInfo.InvariantCulture, out var i) && i >= 0 && i < dirs.Count ? i : 0;
            throw new UsageException($"--controlnet {dirs[k]} does not fit the UNet of {model}: {Plain(inner)}");
        }
    }

    // An ArgumentException's message without the " (Parameter 'x')" suffix .NET appends.
    static string Plain(ArgumentException e) => e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "");

    /// <summary>cv2.Canny(image, 100, 200) of the file as a 3-channel condition, also written beside the output.</summary>
    static Tensor CannyCondition(string path, string outPath)
    {
        var (rgb, h, w) = Images.LoadRgb(path);
        var edges = Canny.Detect(rgb, h, w, 3);
        Images.SaveMask(edges.Select(e => e != 0).ToArray(), h, w, CannyPath(outPath));
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(edges, [1, 1, h, w]).to(ScalarType.Float32) / 255.0; // (1, 1, H, W)
        return t.expand(1, 3, h, w).contiguous().MoveToOuterDisposeScope(); // (1, 3, H, W): the edge map in every channel, as the web UIs feed it
    }

    /// <summary>An image file as (1, 3, H, W) in [0, 1].</summary>
    static Tensor LoadImage(string path)
    {
        var (rgb, h, w) = Images.LoadRgb(path);
        using var scope = torch.NewDisposeScope();
        return (torch.tensor(rgb, [1, h, w, 3]).permute(0, 3, 1, 2).to(ScalarType.Float32) / 255.0).MoveToOuterDisposeScope();
    }

    static int? ClipSkip(int k) => k == 0 ? null : k;

    static IReadOnlyList<string> List(string? text) =>
        text is null ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static IReadOnlyList<double> Doubles(ParseResult args, Option<string> option)
    {
        var text = args.GetValue(option);
        if (text is null) return [1.0];
        return List(text).Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !double.IsNaN(v) ? v
            : throw new UsageException($"{option.Name}: '{s}' is not a number (expected comma-separated numbers such as 1,0.5)")).ToArray();
    }

    static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
