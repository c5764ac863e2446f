using SharpVision.Experiments.Output;

namespace SharpVision.Tests.Experiments.Output;

public sealed class PngTextTests
{
    [Fact]
    public void TextWrittenWithAnImageReadsBackAndTheImageStillDecodes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pngtext-{Guid.NewGuid():N}.png");
        try
        {
            var rgb = Enumerable.Range(0, 4 * 5 * 3).Select(i => (byte)(i * 7)).ToArray();
            var text = new Dictionary<string, string> { ["parameters"] = "a photo of a cat\nSteps: 20, Seed: 1234", ["Software"] = "SharpVision" };
            Images.SaveRgb(rgb, 4, 5, path, text);
            var entries = PngText.Read(File.ReadAllBytes(path));
            Assert.Equal(text.OrderBy(kv => kv.Key), entries.OrderBy(kv => kv.Key));
            var (back, h, w) = Images.LoadRgb(path);
            Assert.Equal((4, 5), (h, w));
            Assert.Equal(rgb, back);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void BadKeysAndNonPngDataAreRejected()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pngtext-{Guid.NewGuid():N}.png");
        try
        {
            Images.SaveRgb(new byte[3], 1, 1, path);
            var png = File.ReadAllBytes(path);
            Assert.Empty(PngText.Read(png));
            Assert.Throws<ArgumentException>(() => PngText.Insert(png, [new("", "x")]));
            Assert.Throws<ArgumentException>(() => PngText.Insert(png, [new(new string('k', 80), "x")]));
            Assert.Throws<ArgumentException>(() => PngText.Insert([1, 2, 3], [new("k", "x")]));
            Assert.Throws<InvalidDataException>(() => PngText.Read([1, 2, 3, 4, 5, 6, 7, 8]));
            Assert.Throws<InvalidDataException>(() => PngText.Read(PngText.Insert(png, [new("k", new string('v', 100))])[..60]));
        }
        finally { File.Delete(path); }
    }
}
