using CsCheck;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Tests.Algorithms;

public sealed class ArrayIntersectionTests
{
    /// <summary>Brute-force oracle: every distinct value of nums1 found by linear search in nums2, ascending.</summary>
    static int[] Oracle(int[] nums1, int[] nums2) => [.. nums1.Distinct().Where(x => Array.IndexOf(nums2, x) >= 0).Order()];

    [Theory]
    [InlineData(new[] { 1, 2, 2, 1 }, new[] { 2, 2 }, new[] { 2 })]
    [InlineData(new[] { 4, 9, 5 }, new[] { 9, 4, 9, 8, 4 }, new[] { 4, 9 })]
    [InlineData(new[] { 0, 1000 }, new[] { 1000 }, new[] { 1000 })] // the notes' 1000-slot table overflows here
    [InlineData(new[] { -3, 4, -1000 }, new[] { 4, -3, -1000, 7 }, new[] { -1000, -3, 4 })]
    [InlineData(new[] { int.MinValue, 0, int.MaxValue }, new[] { int.MaxValue, int.MinValue }, new[] { int.MinValue, int.MaxValue })]
    [InlineData(new[] { int.MinValue }, new[] { int.MaxValue }, new int[0])]
    [InlineData(new int[0], new[] { 1 }, new int[0])]
    [InlineData(new[] { 1 }, new int[0], new int[0])]
    [InlineData(new int[0], new int[0], new int[0])]
    [InlineData(new[] { 0 }, new[] { 0, 0 }, new[] { 0 })] // 0 is also the empty-slot pattern of the hash path
    public void Examples(int[] nums1, int[] nums2, int[] expected)
    {
        Assert.Equal(expected, HashTableAlgorithms.Intersection(nums1, nums2));
        Assert.Equal(expected, HashTableAlgorithms.Intersection(nums2, nums1));
    }

    [Fact]
    public void SparseValuesTakeTheHashPathAndComeOutSorted()
    {
        // Values spread over the whole int range (too wide for the bitmap), with more hits than the radix threshold.
        var rng = new Random(349);
        var common = Enumerable.Range(0, 3000).Select(_ => rng.Next(int.MinValue, int.MaxValue)).Append(int.MinValue).Append(int.MaxValue).Append(0).ToArray();
        var a = common.Concat(Enumerable.Range(0, 500).Select(_ => rng.Next(int.MinValue, int.MaxValue))).OrderBy(_ => rng.Next()).ToArray();
        var b = common.Concat(common).Concat(Enumerable.Range(0, 700).Select(_ => rng.Next(int.MinValue, int.MaxValue))).OrderBy(_ => rng.Next()).ToArray();
        var expected = a.Intersect(b).Order().ToArray();
        Assert.True(expected.Length >= 3000);
        Assert.Equal(expected, HashTableAlgorithms.Intersection(a, b));
        Assert.Equal(expected, HashTableAlgorithms.Intersection(b, a));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LargeSparseInputsSplitIntoManyPartitions(bool skewed)
    {
        // 200,000 values: hundreds of partitions on the hash path. Skewed: almost all values in one narrow band plus
        // a few far-off outliers, so the range is wide but one partition holds nearly everything.
        var rng = new Random(skewed ? 3491 : 3492);
        int Draw() => skewed && rng.Next(1000) > 0 ? rng.Next(0, 5_000_000) : rng.Next(int.MinValue, int.MaxValue);
        var a = Enumerable.Range(0, 200_000).Select(_ => Draw()).Append(int.MinValue).Append(int.MaxValue).ToArray();
        var b = Enumerable.Range(0, 250_000).Select(i => i % 2 == 0 ? a[rng.Next(a.Length)] : Draw()).Append(int.MaxValue).ToArray();
        var expected = a.Intersect(b).Order().ToArray();
        Assert.Equal(expected, HashTableAlgorithms.Intersection(a, b));
        Assert.Equal(expected, HashTableAlgorithms.Intersection(b, a));
    }

    [Fact]
    public void ResultIsANewArray()
    {
        int[] a = [5, 3], b = [3, 5];
        var result = HashTableAlgorithms.Intersection(a, b);
        Assert.Equal([3, 5], result);
        Assert.Equal([5, 3], a);
        Assert.Equal([3, 5], b);
    }

    [Fact]
    public void NullThrows()
    {
        Assert.Equal("nums1", Assert.Throws<ArgumentNullException>(() => HashTableAlgorithms.Intersection(null!, [1])).ParamName);
        Assert.Equal("nums2", Assert.Throws<ArgumentNullException>(() => HashTableAlgorithms.Intersection([1], null!)).ParamName);
    }

    public static TheoryData<int, string> FixtureRows => HashTableCases.Rows("intersection");

    [Theory]
    [MemberData(nameof(FixtureRows))]
    public void FixtureCase(int index, string label)
    {
        var c = HashTableCases.Of("intersection")[index];
        var actual = HashTableAlgorithms.Intersection(HashTableCases.Ints(c.GetProperty("nums1")), HashTableCases.Ints(c.GetProperty("nums2")));
        Assert.True(HashTableCases.Ints(c.GetProperty("expected")).SequenceEqual(actual), $"case {index} {label}: got [{string.Join(",", actual)}]");
    }

    /// <summary>Values from a narrow range (bitmap path, many hits), the whole int range (hash path) or the extremes.</summary>
    static readonly Gen<int> Value = Gen.Frequency(
        (3, Gen.Int[-20, 20]),
        (2, Gen.Int),
        (1, Gen.OneOf(int.MinValue, int.MinValue + 1, -1, 0, 1, int.MaxValue - 1, int.MaxValue)));

    [Fact]
    public void MatchesOracleOnRandomArrays() =>
        SeededSample.Run(Gen.Select(Value.Array[0, 60], Value.Array[0, 60]),
            p => Assert.Equal(Oracle(p.Item1, p.Item2), HashTableAlgorithms.Intersection(p.Item1, p.Item2)), seed: 349, iterations: 3000);

    [Fact]
    public void MatchesOracleWhenOneArrayRepeatsTheOther()
    {
        // nums2 = a sample of nums1's values plus noise: large results exercise the radix sort on both signs.
        var gen = Gen.Select(Gen.Int.Array[0, 2000], Gen.Int.Array[0, 300], Gen.Int, (a, noise, seed) =>
        {
            var rng = new Random(seed);
            return (a, a.Where(_ => rng.Next(3) > 0).Concat(noise).OrderBy(_ => rng.Next()).ToArray());
        });
        SeededSample.Run(gen, p => Assert.Equal(Oracle(p.a, p.Item2), HashTableAlgorithms.Intersection(p.a, p.Item2)), seed: 3490, iterations: 100);
    }
}
