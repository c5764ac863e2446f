using System.CommandLine;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Experiments.Diffusion;
using SharpVision.Experiments.Output;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision controlnet edges</c>: the Sobel edge map of an image, or of a Fashion-MNIST test image, as a condition PNG.</summary>
public sealed class ControlNetEdgesCommand : ICommand
{
    public string Name => "controlnet edges";
    public string Summary => "Write the Sobel edge map (ControlNet condition) of an image or a Fashion-MNIST test image";
    public string Notes => """
        The image is read as greyscale, padded with black to --size when smaller (Fashion-MNIST's 28x28 -> 32x32),
        and its Sobel magnitude on [0, 1] intensities thresholded: white edges on black, 1 pixel = 1 pixel.
        """;

    static readonly Option<int?> TestIndex = Opt.OptionalInt("--test-index",
        "image I of the embedded Fashion-MNIST test split instead of a file", min: 0, max: 9999, metavar: "I");
    static readonly Option<string> Image = Opt.Text("--image", "FILE", "the image, read as greyscale (or --test-index)");
    static readonly Option<int> Size = Opt.Int("--size",
        "pad with black to this size when smaller (Fashion-MNIST's 28x28 -> 32x32)", FashionMnistDiffusionData.PaddedSize, min: 1, max: 4096);
    static readonly Option<double> Threshold = Opt.Double("--threshold", "Sobel magnitude threshold on [0, 1] intensities", EdgeMaps.DefaultThreshold, min: 1e-6);
    static readonly Option<string> Out = Opt.Text("--out", "FILE", "the edge map PNG", "edges.png");
    public IEnumerable<Symbol> Symbols => [Image, TestIndex, Size, Threshold, Out];

    public int Run(ParseResult args)
    {
        var imagePath = args.GetValue(Image);
        int? index = args.GetValue(TestIndex);
        int size = args.GetValue(Size);
        double threshold = args.GetValue(Threshold);
        var outPath = args.GetValue(Out)!;
        if ((imagePath is null) == (index is null)) throw new UsageException("give one of --image FILE or --test-index I");

        using var scope = torch.NewDisposeScope();
        Tensor image; // (1, 1, H, W) in [-1, 1]
        if (index is int i)
            image = FashionMnistDiffusionData.ToModelRange(SharpVision.Nn.Data.FashionMnist.EmbeddedTest().Slice(i, 1), size);
        else
        {
            var (rgb, h, w) = Images.LoadRgb(imagePath!);
            image = torch.tensor(rgb, [1, h, w, 3]).permute(0, 3, 1, 2).to(ScalarType.Float32).mean([1], keepdim: true) / 127.5 - 1; // (1, 1, H, W)
            if (h < size || w < size) image = FashionMnistDiffusionData.Pad(image, size);
        }
        var edges = EdgeMaps.Compute(image, threshold);
        Images.SaveGrid(edges, outPath, columns: 1, low: 0, high: 1, scale: 1, padding: 0);
        AnsiConsole.WriteLine($"Wrote {outPath}: {edges.shape[3]}x{edges.shape[2]} edge map, {edges.sum().item<float>():F0} edge pixels (threshold {threshold})");
        return 0;
    }
}
