using CsCheck;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Testing;

namespace SharpVision.Tests.Segmentation;

public sealed class CocoRleTests
{
    [Theory]
    // Each count from the fourth on is stored as its difference from the count two before; 5-bit groups,
    // '0' + group, 0x20 when another group follows, 0x10 of the last group the sign.
    [InlineData(new[] { 4 }, "4")]
    [InlineData(new[] { 0, 4 }, "04")]
    [InlineData(new[] { 1, 2, 3, 4 }, "1232")]               // 4 - 2 = 2
    [InlineData(new[] { 30, 10, 5, 3 }, "n0:5I")]            // 30 = 'n' (30 | 0x20) '0'; 3 - 10 = -7 -> 25 = 'I'
    [InlineData(new[] { 100, 50, 2000, 7, 1 }, "T3b1`n1eNaQN")]
    public void Encodes_as_pycocotools(int[] counts, string expected)
    {
        Assert.Equal(expected, CocoRle.Encode(counts));
        Assert.Equal(counts, CocoRle.Decode(expected));
    }

    [Fact]
    public void Any_runs_round_trip() =>
        SeededSample.Run(Gen.Int[0, 5_000_000].Array[0, 40], counts => Assert.Equal(counts, CocoRle.Decode(CocoRle.Encode(counts))), seed: 18);

    [Theory]
    [InlineData("0 4", "bad character")]
    [InlineData("n", "end inside a value")]
    [InlineData("1I", "run 1 is -7")]
    public void Malformed_strings_are_rejected(string counts, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => CocoRle.Decode(counts)).Message);
}
