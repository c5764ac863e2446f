using System.CommandLine;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Experiments.Output;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision controlnet canny</c>: the Canny edge map of an image (cv2.Canny, the ControlNet canny preprocessor) as a PNG.</summary>
public sealed class ControlNetCannyCommand : ICommand
{
    public string Name => "controlnet canny";
    public string Summary => "Write the Canny edge map of an image as cv2.Canny computes it (the ControlNet canny condition)";
    public string Notes => """
        The RGB image's edges as cv2.Canny(image, low, high, apertureSize, L2gradient) gives them (no blur; each pixel
        takes its strongest colour channel's gradient): white edges on black, the image's size.
        """;

    static readonly Option<int> Aperture = Opt.Int("--aperture", "Sobel aperture, 3 or 5", 3).Suggest("3", "5");
    static readonly Option<bool> L2 = Opt.Flag("--l2", "Euclidean gradient magnitude instead of |dx| + |dy|");
    static readonly Option<string> Image = Opt.Required("--image", "FILE", "the RGB image (PNG)");
    static readonly Option<double> Low = Opt.Double("--low",
        "lower hysteresis threshold on the Sobel magnitude (swapped when low > high); ControlNet uses 100", Canny.DefaultLowThreshold);
    static readonly Option<double> High = Opt.Double("--high", "upper hysteresis threshold; ControlNet uses 200", Canny.DefaultHighThreshold);
    static readonly Option<string> Out = Opt.Text("--out", "FILE", "the edge map PNG", "canny.png");
    public IEnumerable<Symbol> Symbols => [Image, Low, High, Aperture, L2, Out];

    public int Run(ParseResult args)
    {
        var imagePath = args.GetValue(Image)!;
        double low = args.GetValue(Low);
        double high = args.GetValue(High);
        int aperture = args.GetValue(Aperture);
        bool l2 = args.GetValue(L2);
        var outPath = args.GetValue(Out)!;
        if (aperture is not (3 or 5)) throw new UsageException($"--aperture must be 3 or 5; got {aperture}");

        var (rgb, h, w) = Images.LoadRgb(imagePath);
        var edges = Canny.Detect(rgb, h, w, 3, low, high, aperture, l2);
        Images.SaveMask(edges.Select(e => e != 0).ToArray(), h, w, outPath);
        args.Out.WriteLine($"Wrote {outPath}: {w}x{h} Canny edge map, {edges.Count(e => e != 0)} edge pixels (low {low}, high {high}, aperture {aperture}, {(l2 ? "L2" : "L1")})");
        return 0;
    }
}
