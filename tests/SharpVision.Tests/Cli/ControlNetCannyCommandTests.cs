using SharpVision.Experiments.Output;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

/// <summary><c>sharpvision controlnet canny</c> on a fixture image, and its bad-input handling.</summary>
public sealed class ControlNetCannyCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-canny-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void WritesCv2CannysEdgesOfTheImage()
    {
        using var c = ParityCase.Load("canny/canny_2"); // aperture 5, low 20, high 60
        var rgb = c.Raw("image_rgb"); // (H, W, 3) uint8
        int h = (int)rgb.shape[0], w = (int)rgb.shape[1];
        string image = Path.Combine(dir, "in.png"), edges = Path.Combine(dir, "edges.png");
        Images.SaveRgb(rgb.data<byte>().ToArray(), h, w, image);

        var r = Run("controlnet", "canny", "--image", image, "--low", "20", "--high", "60", "--aperture", "5", "--out", edges);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains($"{w}x{h}", r.Out);
        var (written, wh, ww) = Images.LoadRgb(edges);
        Assert.Equal((h, w), (wh, ww));
        var expected = c.Raw("expected_edges").data<byte>().ToArray();
        Assert.Equal(expected, Enumerable.Range(0, h * w).Select(i => written[3 * i]).ToArray());
    }

    [Theory]
    [InlineData("--aperture", "4", "--aperture must be 3 or 5; got 4")]
    [InlineData("--low", "x", "--low must be a number")]
    [InlineData("--image", "/nonexistent/in.png", "/nonexistent/in.png")]
    [InlineData("--image", "NOT_AN_IMAGE", "not a readable image")]
    public void BadInputExitsTwoWithOneLine(string option, string value, string expected)
    {
        string image = Path.Combine(dir, "in.png"), notImage = Path.Combine(dir, "notes.txt");
        Images.SaveRgb(new byte[4 * 4 * 3], 4, 4, image);
        File.WriteAllText(notImage, "not a PNG");
        string[] args = option == "--image"
            ? ["controlnet", "canny", "--image", value == "NOT_AN_IMAGE" ? notImage : value]
            : ["controlnet", "canny", "--image", image, option, value];
        var r = Run([.. args, "--out", Path.Combine(dir, "out.png")]);
        Assert.Equal(2, r.Code);
        Assert.Contains(expected, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}
