using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Experiments.Output;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision controlnet canny</c>: the Canny edge map of an image (cv2.Canny, the ControlNet canny preprocessor) as a PNG.</summary>
public sealed class ControlNetCannyCommand : ICommand, IHasFlags
{
    public string Name => "controlnet canny";
    public string Summary => "Write the Canny edge map of an image as cv2.Canny computes it (the ControlNet canny condition)";
    public string Usage => """
        sharpvision controlnet canny --image in.png [--low 100] [--high 200] [--aperture 3|5] [--l2] [--out canny.png]

          The RGB image's edges as cv2.Canny(image, low, high, apertureSize, L2gradient) gives them (no blur; each pixel
          takes its strongest colour channel's gradient): white edges on black, the image's size.
          --low, --high   hysteresis thresholds on the Sobel magnitude (swapped when low > high); ControlNet uses 100, 200
          --aperture      Sobel aperture, 3 or 5
          --l2            Euclidean gradient magnitude instead of |dx| + |dy|
        """;

    public IEnumerable<string> Flags => ["l2"];

    public int Run(Arguments args)
    {
        var imagePath = args.Required("image");
        double low = args.Double("low", Canny.DefaultLowThreshold);
        double high = args.Double("high", Canny.DefaultHighThreshold);
        int aperture = args.Int("aperture", 3);
        bool l2 = args.Flag("l2");
        var outPath = args.Option("out") ?? "canny.png";
        args.RejectUnknown();
        if (aperture is not (3 or 5)) throw new UsageException($"--aperture must be 3 or 5; got {aperture}");

        var (rgb, h, w) = Images.LoadRgb(imagePath);
        var edges = Canny.Detect(rgb, h, w, 3, low, high, aperture, l2);
        Images.SaveMask(edges.Select(e => e != 0).ToArray(), h, w, outPath);
        args.Out.WriteLine($"Wrote {outPath}: {w}x{h} Canny edge map, {edges.Count(e => e != 0)} edge pixels (low {low}, high {high}, aperture {aperture}, {(l2 ? "L2" : "L1")})");
        return 0;
    }
}
