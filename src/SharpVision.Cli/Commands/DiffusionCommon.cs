using System.CommandLine;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Output;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Diffusion;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Data;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary>Option parsing and reporting shared by the <c>sharpvision diffusion</c> commands.</summary>
static class DiffusionCommon
{
    public static readonly Option<string> Model = Opt.Required("--model", "DIR", "a diffusers UNet2DModel folder (e.g. a training run's ema/)");
    public static readonly Option<string> Scheduler = Opt.Required("--scheduler", "PATH", "a scheduler folder or scheduler_config.json");
    public static readonly Option<string> Class = Opt.Text("--class", "IDS",
        "class ids for a class-conditional model: an id, a comma list, 'all' (cycle through the classes; the default) or 'null'")
        .Suggest("all", "null");

    /// <summary>Loads <c>--model DIR</c> (a diffusers UNet2DModel folder); errors name the file and key.</summary>
    public static UNet2DModel LoadModel(ParseResult args)
    {
        var dir = args.GetValue(Model)!;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--model: folder not found: {dir}");
        return UNet2DModel.FromPretrained(dir);
    }

    /// <summary>The <c>--scheduler</c> folder or file (must hold scheduler_config.json).</summary>
    public static string SchedulerPath(ParseResult args)
    {
        var path = args.GetValue(Scheduler)!;
        if (!Directory.Exists(path) && !File.Exists(path)) throw new FileNotFoundException($"--scheduler: not found: {path}", path);
        return path;
    }

    /// <summary>Class labels from <c>--class</c>: an id, a comma list, "all" (cycle through the classes) or "null".
    /// Default for a class-conditional model: cycle through the classes; for an unconditional one: none.</summary>
    public static long[]? ClassLabels(ParseResult args, UNet2DModel unet, int count)
    {
        var text = args.GetValue(Class);
        long? nullId = ClassifierFreeGuidance.NullClass(unet);
        if (text is null) return nullId is long n ? Enumerable.Range(0, count).Select(i => i % n).ToArray() : null;
        if (nullId is null && unet.class_embedding is null)
            throw new UsageException($"--class: the model in {args.GetValue(Model)} is not class-conditional (num_class_embeds unset)");
        if (nullId is null) throw new UsageException("--class: only models with a num_class_embeds lookup table take class ids");
        if (text == "all") return Enumerable.Range(0, count).Select(i => i % nullId.Value).ToArray();
        if (text == "null") return Enumerable.Repeat(nullId.Value, count).ToArray();
        var ids = Opt.IntList(text, "--class");
        if (ids.Length == 0) throw new UsageException("--class needs an id, a comma-separated list, 'all' or 'null'");
        foreach (var id in ids)
            if (id < 0 || id > nullId)
                throw new UsageException($"--class must be in 0..{nullId - 1} (or {nullId}, the null class); got {id}");
        return Enumerable.Range(0, count).Select(i => (long)ids[i % ids.Length]).ToArray();
    }

    /// <summary>Runs <paramref name="work"/> with a progress bar of <paramref name="steps"/> denoising steps (or as many
    /// as the loop reports: a PNDM schedule has one more entry, image-to-image runs fewer).</summary>
    public static T WithSteps<T>(string title, int steps, Func<Action<SamplingProgress>, T> work) =>
        ProgressDisplay.Run("step", ctx =>
        {
            var task = ctx.AddTask(Markup.Escape(title), maxValue: steps);
            var result = work(p =>
            {
                task.MaxValue = p.Steps;
                task.Value = p.Step;
            });
            task.Value = task.MaxValue;
            return result;
        });

    /// <summary>Reads <c>--image</c> as (1, C, H, W) in [−1, 1] for a model with C input channels (C = 1: the mean of R, G, B),
    /// padded with −1 to the model's sample_size when smaller.</summary>
    public static Tensor LoadImage(string path, UNet2DModel unet)
    {
        var (rgb, h, w) = Images.LoadRgb(path);
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(rgb, [1, h, w, 3]).permute(0, 3, 1, 2).to(ScalarType.Float32) / 255.0; // (1, 3, H, W)
        if (unet.Config.InChannels == 1) t = t.mean([1], keepdim: true); // (1, 1, H, W)
        else if (unet.Config.InChannels != 3)
            throw new UsageException($"--image: the model takes {unet.Config.InChannels} channels; only 1 (grey) and 3 (RGB) come from images");
        t = t * 2 - 1;
        if (unet.Config.SampleSize is [int size, ..] && h <= size && w <= size && (h < size || w < size))
            t = FashionMnistDiffusionData.Pad(t, size);
        return t.MoveToOuterDisposeScope();
    }

    /// <summary>The FD-FMNIST feature classifier: loaded from <paramref name="directory"/>, or trained on <paramref name="images"/>
    /// images of <paramref name="train"/> (with a progress bar) and saved there.</summary>
    public static FeatureClassifier LoadOrTrainClassifier(string directory, LabeledImages train, LabeledImages test, int images, string description)
    {
        if (FeatureClassifier.Exists(directory))
        {
            var loaded = FeatureClassifier.Load(directory);
            AnsiConsole.WriteLine($"Loaded the feature classifier from {directory}");
            return loaded;
        }
        var classifier = ProgressDisplay.Run("img", ctx =>
        {
            var task = ctx.AddTask("training the feature classifier", maxValue: images);
            return FeatureClassifier.Train(train, test, images, progress: p => task.Value = p.ImagesSeen);
        });
        classifier.Save(directory);
        AnsiConsole.WriteLine($"Trained the feature classifier on {description}; saved in {directory}");
        return classifier;
    }

    /// <summary>Runs a trainer's loop under a progress bar of images (step and loss in its title); a diverged run's
    /// <see cref="SharpVision.Nn.Training.TrainingDivergedException"/> reaches <see cref="CommandLineApp"/>, which reports
    /// it like every trainer's.</summary>
    /// <param name="train">Runs the loop, reporting each step to the callback it is given.</param>
    /// <returns>(step, loss) of every step.</returns>
    public static List<(double Step, double Loss)> TrainWithProgress(long remainingSteps, int batchSize, Action<Action<DiffusionTrainingProgress>> train)
    {
        var losses = new List<(double Step, double Loss)>();
        ProgressDisplay.Run("img", ctx =>
        {
            var task = ctx.AddTask("training", maxValue: remainingSteps * batchSize);
            train(p =>
            {
                losses.Add((p.Step, p.Loss));
                task.Value = p.Images;
                task.Description = string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.Steps} loss {p.Loss:F4}");
            });
            return 0;
        });
        return losses;
    }

    /// <summary>Writes <c>loss.png</c> in <paramref name="outDir"/> (when there are two points or more).</summary>
    /// <returns>The mean loss of the last 10% of steps.</returns>
    public static double WriteLossChart(string outDir, string title, List<(double Step, double Loss)> losses)
    {
        if (losses.Count > 1)
            Charts.Lines(Path.Combine(outDir, "loss.png"), title, "step", "loss (MSE)",
                [new Series("loss", losses.Select(x => x.Step).ToArray(), losses.Select(x => x.Loss).ToArray())]);
        return losses.Skip(losses.Count * 9 / 10).Average(x => x.Loss);
    }
}
