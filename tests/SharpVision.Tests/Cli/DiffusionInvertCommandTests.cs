using SharpVision.Experiments.Output;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class DiffusionInvertCommandTests : IDisposable
{
    readonly DiffusionCliFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public void InvertsDataImagesAndWritesTheRows()
    {
        var r = Run("diffusion", "invert", "--model", f.Model, "--scheduler", f.Scheduler, "--from-data", "2", "--steps", "5", "--out", f.PathOf("inv.png"));
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(f.PathOf("inv.png")));
    }

    [Fact]
    public void InvertsAnImageFilePaddedToTheModelSize()
    {
        var rgb = new byte[28 * 28 * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 7 % 256);
        Images.SaveRgb(rgb, 28, 28, f.PathOf("in.png"));
        var r = Run("diffusion", "invert", "--model", f.Model, "--scheduler", f.Scheduler, "--image", f.PathOf("in.png"), "--steps", "3", "--out", f.PathOf("inv.png"));
        Assert.True(r.Code == 0, r.Err);
    }

    [Fact]
    public void NeedsExactlyOneSourceAndAFittingImage()
    {
        var none = Run("diffusion", "invert", "--model", f.Model, "--scheduler", f.Scheduler);
        Assert.Equal(2, none.Code);
        Assert.Contains("--image", none.Err);
        Images.SaveRgb(new byte[33 * 33 * 3], 33, 33, f.PathOf("big.png"));
        var big = Run("diffusion", "invert", "--model", f.Model, "--scheduler", f.Scheduler, "--image", f.PathOf("big.png"), "--steps", "2");
        Assert.Equal(2, big.Code);
        Assert.Contains("(1, 1, 33, 33)", big.Err);
    }
}
