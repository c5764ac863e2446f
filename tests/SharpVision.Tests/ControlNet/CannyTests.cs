using CsCheck;
using SharpVision.Diffusion.ControlNet;

namespace SharpVision.Tests.ControlNet;

public sealed class CannyTests
{
    /// <summary>(16, 16) grey: 0 left of column 8 (or above row 8), 200 from it on.</summary>
    static byte[] Step(bool vertical)
    {
        var image = new byte[16 * 16];
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                image[y * 16 + x] = (vertical ? x : y) >= 8 ? (byte)200 : (byte)0;
        return image;
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(3, true)]
    [InlineData(5, false)]
    [InlineData(5, true)]
    public void AStepEdgeGivesAOnePixelLineOnItsDarkSide(int aperture, bool l2)
    {
        // Columns 7 and 8 have the same magnitude; the "greater than the left, at least the right" test keeps column 7.
        foreach (bool vertical in new[] { true, false })
        {
            var edges = Canny.Detect(Step(vertical), 16, 16, 1, 100, 200, aperture, l2);
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                    Assert.Equal((vertical ? x : y) == 7 ? 255 : 0, edges[y * 16 + x]);
        }
    }

    [Fact]
    public void SwappedThresholdsGiveTheSameEdges()
    {
        var image = Blocks(24, 32, 1, new Random(3));
        var ordered = Canny.Detect(image, 24, 32, 1, 60, 180);
        Assert.Equal(ordered, Canny.Detect(image, 24, 32, 1, 180, 60));
        Assert.Contains(ordered, b => b == 255);
        Assert.NotEqual(ordered, Canny.Detect(image, 24, 32, 1, 60, 600)); // the high threshold matters
    }

    [Fact]
    public void WeakEdgesSurviveOnlyWhenConnectedToAStrongOne()
    {
        // Two steps of 40 (magnitude 160 with aperture 3): below high 200 alone, above low 100.
        var image = new byte[16 * 16];
        for (int y = 0; y < 16; y++)
            for (int x = 8; x < 16; x++)
                image[y * 16 + x] = 40;
        Assert.All(Canny.Detect(image, 16, 16, 1, 100, 200), b => Assert.Equal(0, b));
        for (int y = 0; y < 4; y++)
            for (int x = 8; x < 16; x++)
                image[y * 16 + x] = 200; // rows 0-3 a strong step (magnitude 800)
        var edges = Canny.Detect(image, 16, 16, 1, 100, 200);
        for (int y = 6; y < 16; y++) Assert.Equal(255, edges[y * 16 + 7]); // the weak line is reached from its strong end
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public void ApertureOtherThanThreeOrFiveIsRejected(int aperture)
    {
        var e = Assert.Throws<ArgumentException>(() => Canny.Detect(new byte[16], 4, 4, 1, 100, 200, aperture));
        Assert.Equal("apertureSize", e.ParamName);
        Assert.Contains("3 or 5", e.Message);
        Assert.Contains($"got {aperture}", e.Message);
    }

    [Fact]
    public void BadBuffersAndTensorsNameTheProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => Canny.Detect(new byte[10], 4, 4, 1));
        Assert.Contains("4*4*1 = 16", e.Message);
        Assert.Throws<ArgumentException>(() => Canny.Detect(new byte[16], 4, 4, 1, double.NaN, 200));
        Assert.Throws<ArgumentOutOfRangeException>(() => Canny.Detect(new byte[16], 4, 4, 0));
        var t = Assert.Throws<ArgumentException>(() => Canny.Detect(zeros(1, 3, 8, 8)));
        Assert.Contains("(H, W) or (H, W, C) uint8", t.Message);
        Assert.Contains("(1, 3, 8, 8)", t.Message);
    }

    [Fact]
    public void EmptyAndOnePixelImagesHaveNoEdges()
    {
        Assert.Empty(Canny.Detect([], 0, 0, 1));
        Assert.Empty(Canny.Detect([], 0, 7, 3));
        Assert.Equal(new byte[] { 0 }, Canny.Detect([200], 1, 1, 1, 0, 0));
        var row = Canny.Detect([0, 0, 255, 255, 255], 1, 5, 1, 100, 200);
        Assert.Equal(new byte[] { 0, 255, 0, 0, 0 }, row); // a 1-row image still has its step
        using var empty = Canny.Detect(zeros([0, 4, 3], ScalarType.Byte));
        Assert.Equal(new long[] { 0, 4 }, empty.shape);
    }

    [Fact]
    public void TheTensorOverloadMatchesTheByteOne()
    {
        var image = Blocks(20, 12, 3, new Random(5));
        using var t = tensor(image, [20, 12, 3], ScalarType.Byte);
        using var edges = Canny.Detect(t, 50, 150, 5, l2Gradient: true);
        Assert.Equal(new long[] { 20, 12 }, edges.shape);
        Assert.Equal(ScalarType.Byte, edges.dtype);
        Assert.Equal(Canny.Detect(image, 20, 12, 3, 50, 150, 5, true), edges.data<byte>().ToArray());
    }

    [Fact]
    public void RgbToGrayUsesOpenCvsFifteenBitWeights()
    {
        Assert.Equal(new byte[] { 76, 150, 29, 255, 0 }, Canny.RgbToGray([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0], 1, 5));
        Assert.Equal(new byte[] { 135 }, Canny.RgbToGray([20, 197, 113], 1, 1)); // 134.501: 2^14 weights give 134
    }

    /// <summary>Piecewise-constant 4×4 blocks plus noise: real edges and texture.</summary>
    static byte[] Blocks(int h, int w, int channels, Random rng)
    {
        var levels = new byte[(h / 4 + 1) * (w / 4 + 1) * channels];
        rng.NextBytes(levels);
        var image = new byte[h * w * channels];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++)
                    image[(y * w + x) * channels + c] = (byte)Math.Clamp(levels[((y / 4) * (w / 4 + 1) + x / 4) * channels + c] + rng.Next(-8, 9), 0, 255);
        return image;
    }

    sealed record Setting(int Height, int Width, int Channels, int Aperture, bool L2, int Low, int High, int Seed);

    static readonly Gen<Setting> Settings =
        Gen.Select(Gen.Int[1, 24], Gen.Int[1, 24], Gen.Int[0, 1].Select(i => 1 + 2 * i), Gen.Int[0, 1].Select(i => 3 + 2 * i))
            .SelectMany(s => Gen.Select(Gen.Bool, Gen.Int[0, 400], Gen.Int[0, 800], Gen.Int[0, 1 << 30],
                (l2, low, high, seed) => new Setting(s.Item1, s.Item2, s.Item3, s.Item4, l2, low, high, seed)));

    [Fact]
    public void EdgesAreBinaryAboveTheLowThresholdAndReachedFromAStrongPixel()
    {
        SeededSample.Run(Settings, s =>
        {
            var image = Blocks(s.Height, s.Width, s.Channels, new Random(s.Seed));
            var edges = Canny.Detect(image, s.Height, s.Width, s.Channels, s.Low, s.High, s.Aperture, s.L2);
            var m = Canny.Magnitude(image, s.Height, s.Width, s.Channels, s.Aperture, s.L2);
            long low = Math.Min(s.Low, s.High), high = Math.Max(s.Low, s.High);
            if (s.L2) (low, high) = (low * low, high * high);
            Assert.All(edges, b => Assert.True(b is 0 or 255));
            // Flood fill from the strong edge pixels through edge pixels: it must reach every edge pixel.
            var reached = new bool[edges.Length];
            var stack = new Stack<int>();
            for (int i = 0; i < edges.Length; i++)
            {
                if (edges[i] == 0) continue;
                Assert.True(m[i] > low, $"edge pixel {i} has magnitude {m[i]}, not above the low threshold {low}");
                if (m[i] > high) { reached[i] = true; stack.Push(i); }
            }
            while (stack.Count > 0)
            {
                int i = stack.Pop(), y = i / s.Width, x = i % s.Width;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int ny = y + dy, nx = x + dx, j = ny * s.Width + nx;
                        if (ny < 0 || ny >= s.Height || nx < 0 || nx >= s.Width || edges[j] == 0 || reached[j]) continue;
                        reached[j] = true;
                        stack.Push(j);
                    }
            }
            Assert.All(Enumerable.Range(0, edges.Length), i => Assert.True(edges[i] == 0 || reached[i], $"edge pixel {i} is not connected to a strong one"));
        }, seed: 11, iterations: 150);
    }

    [Fact]
    public void AGreyImageRepeatedInThreeChannelsHasTheGreyEdges()
    {
        SeededSample.Run(Settings, s =>
        {
            var gray = Blocks(s.Height, s.Width, 1, new Random(s.Seed));
            var rgb = gray.SelectMany(v => new[] { v, v, v }).ToArray();
            Assert.Equal(Canny.Detect(gray, s.Height, s.Width, 1, s.Low, s.High, s.Aperture, s.L2),
                Canny.Detect(rgb, s.Height, s.Width, 3, s.Low, s.High, s.Aperture, s.L2));
        }, seed: 12, iterations: 60);
    }
}
