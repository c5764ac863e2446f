using CsCheck;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using Xunit.Abstractions;

namespace SharpVision.Tests.Segmentation;

public sealed class PilResizeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("sam/sam_tiny_point")]
    [InlineData("sam/sam_tiny_box_mask")]
    [InlineData("sam/sam_tiny_points_box")]
    public void Matches_pillow_on_the_fixture_images(string name)
    {
        using var c = ParityCase.Load(name);
        var config = SamConfig.Load(c.PathOf(c.String("config")!));
        int diff = SamPredictorParity.ResizeDifference(c.Raw("image"), c.Raw("expected_resized_image"), config.ImageSize);
        output.WriteLine($"{name}: max |ours - Pillow| = {diff}");
        Assert.Equal(0, diff);
    }

    [Fact]
    public void Same_size_is_the_identity_and_constant_images_stay_constant()
    {
        var gen = Gen.Select(Gen.Int[1, 40], Gen.Int[1, 40], Gen.Int[1, 40], Gen.Int[1, 40], Gen.Byte, Gen.Int[1, 4]);
        var pcg = new PCG(1, 7);
        for (int i = 0; i < 60; i++)
        {
            var (h, w, oh, ow, value, channels) = gen.Generate(pcg, null, out _);
            var constant = Enumerable.Repeat(value, h * w * channels).ToArray();
            Assert.All(PilResize.Bilinear(constant, h, w, channels, oh, ow), b => Assert.Equal(value, b));
            var random = new byte[h * w * channels];
            new Random(i).NextBytes(random);
            Assert.Equal(random, PilResize.Bilinear(random, h, w, channels, h, w));
        }
    }

    [Fact]
    public void Output_stays_within_the_input_range()
    {
        // The triangle weights are non-negative and sum to one, so each output is a convex combination (plus rounding).
        var gen = Gen.Select(Gen.Int[2, 30], Gen.Int[2, 30], Gen.Int[1, 60], Gen.Int[1, 60]);
        var pcg = new PCG(1, 9);
        for (int i = 0; i < 60; i++)
        {
            var (h, w, oh, ow) = gen.Generate(pcg, null, out _);
            var pixels = new byte[h * w];
            var rng = new Random(i);
            for (int k = 0; k < pixels.Length; k++) pixels[k] = (byte)rng.Next(40, 200);
            var resized = PilResize.Bilinear(pixels, h, w, 1, oh, ow);
            Assert.Equal(oh * ow, resized.Length);
            Assert.All(resized, b => Assert.InRange(b, (byte)40, (byte)199));
        }
    }

    [Fact]
    public void Halving_uses_the_stretched_triangle_filter()
    {
        // Scale 2: support ±2 source pixels; output 0 centres at 1.0 and weighs pixels 0, 1, 2 by tri(∓0.25), tri(0.75)
        // = (3, 3, 1)/7; output 1 centres at 3.0 and weighs pixels 1, 2, 3 by (1, 3, 3)/7.
        byte[] row = [0, 100, 200, 40];
        var resized = PilResize.Bilinear(row, 1, 4, 1, 1, 2);
        Assert.Equal(new byte[] { 71, 117 }, resized); // 500/7 = 71.4, 820/7 = 117.1
    }

    [Fact]
    public void Bad_sizes_name_the_problem()
    {
        var e = Assert.Throws<ArgumentException>(() => PilResize.Bilinear(new byte[5], 2, 2, 1, 4, 4));
        Assert.Contains("height*width*channels = 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PilResize.Bilinear([], 0, 2, 1, 4, 4));
    }
}
