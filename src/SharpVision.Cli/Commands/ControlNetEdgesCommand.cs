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
    public string Usage => """
        sharpvision controlnet edges (--image in.png | --test-index I) [--size 32] [--threshold 1.0] [--out edges.png]

          The image is read as greyscale, padded with black to --size when smaller (Fashion-MNIST's 28x28 -> 32x32),
          and its Sobel magnitude on [0, 1] intensities thresholded: white edges on black, 1 pixel = 1 pixel.
          --test-index I   image I of the embedded Fashion-MNIST test split instead of a file
        """;

    public int Run(Arguments args)
    {
        var imagePath = args.Option("image");
        int? index = args.Option("test-index") is null ? null : args.Int("test-index", 0, min: 0, max: 9999);
        int size = args.Int("size", FashionMnistDiffusionData.PaddedSize, min: 1, max: 4096);
        double threshold = args.Double("threshold", EdgeMaps.DefaultThreshold, min: 1e-6);
        var outPath = args.Option("out") ?? "edges.png";
        args.RejectUnknown();
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
