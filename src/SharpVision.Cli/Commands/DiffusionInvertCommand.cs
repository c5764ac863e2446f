using System.CommandLine;
using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Experiments.Diffusion;
using SharpVision.Experiments.Output;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision diffusion invert</c>: DDIM inversion of images to noise and back, with the round-trip error.</summary>
public sealed class DiffusionInvertCommand : ICommand
{
    public string Name => "diffusion invert";
    public string Summary => "DDIM-invert images to latent noise and sample them back; prints the round-trip error";

    static readonly Option<string> Image = Opt.Text("--image", "FILE",
        "one image (grey for 1-channel models: mean of R, G, B), scaled to [-1, 1] and padded with -1 to the " +
        "model's sample_size when smaller");
    static readonly Option<int?> FromData = Opt.OptionalInt("--from-data",
        "the first N Fashion-MNIST test images (28x28 padded to 32x32 with -1, [-1, 1]); their labels " +
        "condition a class-conditional model", min: 1);
    static readonly Option<int?> Class = Opt.OptionalInt("--class",
        "class id for --image with a class-conditional model (default: the null class)", min: 0, metavar: "K");
    static readonly Option<string> Out = Opt.Text("--out", "FILE", "PNG with three rows: inputs, latents, reconstructions", "invert.png");
    static readonly Option<int?> Steps = Opt.OptionalInt("--steps", "DDIM steps each way", min: 1);
    public IEnumerable<Symbol> Symbols => [DiffusionCommon.Model, DiffusionCommon.Scheduler, Image, FromData, Steps, Class, Common.Data, Out];

    public int Run(ParseResult args)
    {
        using var unet = DiffusionCommon.LoadModel(args);
        var schedulerPath = DiffusionCommon.SchedulerPath(args);
        var image = args.GetValue(Image);
        int? fromData = args.GetValue(FromData);
        if ((image is null) == (fromData is null)) throw new UsageException("give exactly one of --image FILE and --from-data N");
        var inversion = DDIMInversion.FromSchedulerConfig(unet, schedulerPath);
        int steps = args.GetValue(Steps, 50, min: 1, max: inversion.Scheduler.Config.NumTrainTimesteps);
        var outPath = args.GetValue(Out)!;

        using var scope = torch.NewDisposeScope();
        Tensor images;
        long[]? labels = null;
        if (image is not null)
        {
            images = DiffusionCommon.LoadImage(image, unet);
            if (args.GetValue(Class) is int id)
            {
                if (ClassifierFreeGuidance.NullClass(unet) is null) throw new UsageException("--class: the model is not class-conditional");
                labels = [id];
            }
        }
        else
        {
            int n = fromData!.Value;
            var (_, test, _) = Common.FashionMnistSplits(args);
            if (n > test.Count) throw new UsageException($"--from-data: {n} exceeds the {test.Count} test images");
            var subset = test.Slice(0, n);
            images = FashionMnistDiffusionData.ToModelRange(subset, unet.Config.SampleSize is [int s, ..] ? s : FashionMnistDiffusionData.PaddedSize);
            if (ClassifierFreeGuidance.NullClass(unet) is not null) labels = subset.Labels.Select(b => (long)b).ToArray();
        }

        var result = DiffusionCommon.WithSteps($"invert + reconstruct {images.shape[0]} image(s)", 2 * steps, report =>
        {
            int done = 0;
            return inversion.RoundTrip(images, steps, labels, _ => report(new SamplingProgress(++done, 2 * steps, 0)));
        });

        var rows = torch.cat([images, result.Latents.clamp(-1, 1), result.Reconstruction]); // (3N, C, H, W)
        Images.SaveGrid(rows, outPath, columns: (int)images.shape[0], low: -1, high: 1);
        var table = new Table().Title($"DDIM inversion round trip, {steps} steps").AddColumn("image").AddColumn(new TableColumn("RMS error").RightAligned());
        for (int i = 0; i < result.RmsError.Length; i++) table.AddRow(i.ToString(CultureInfo.InvariantCulture), result.RmsError[i].ToString("F5", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"round-trip error (pixels in [-1, 1]): RMS {result.MeanRmsError:F5}, max |error| {result.MaxAbsError:F5}; latents std {result.Latents.std().item<float>():F3}"));
        AnsiConsole.WriteLine($"Wrote {outPath} (rows: inputs, latents, reconstructions)");
        return 0;
    }
}
