using CsCheck;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Tests.Algorithms;

public sealed class TwoSumTests
{
    /// <summary>Brute-force oracle: the first pair (by j, then i) of distinct indices whose 64-bit sum is target.</summary>
    static (int I, int J)? Oracle(int[] nums, int target)
    {
        for (int j = 0; j < nums.Length; j++)
            for (int i = 0; i < j; i++)
                if ((long)nums[i] + nums[j] == target) return (i, j);
        return null;
    }

    static void AssertValid(int[] nums, int target, (int I, int J)? pair)
    {
        Assert.True(pair.HasValue, "expected a pair, got none");
        var (i, j) = pair.Value;
        Assert.True(0 <= i && i < j && j < nums.Length, $"indices ({i}, {j}) out of order or range for length {nums.Length}");
        Assert.Equal((long)target, (long)nums[i] + nums[j]);
    }

    [Theory]
    [InlineData(new[] { 2, 7, 11, 15 }, 9, 0, 1)]
    [InlineData(new[] { 3, 2, 4 }, 6, 1, 2)]
    [InlineData(new[] { 3, 3 }, 6, 0, 1)] // duplicates pair with each other
    [InlineData(new[] { -3, 4, 3, 90 }, 0, 0, 2)]
    [InlineData(new[] { 5, 0, -5, 0 }, 0, 0, 2)]
    [InlineData(new[] { int.MaxValue, int.MinValue }, -1, 0, 1)]
    [InlineData(new[] { int.MinValue + 1, 5, int.MaxValue }, 0, 0, 2)]
    public void Examples(int[] nums, int target, int i, int j) => Assert.Equal((i, j), HashTableAlgorithms.TwoSum(nums, target));

    [Theory]
    [InlineData(new int[0], 0)]
    [InlineData(new[] { 3 }, 6)] // an element never pairs with itself
    [InlineData(new[] { 1, 2, 3 }, 7)]
    [InlineData(new[] { int.MaxValue, 1 }, int.MinValue)] // wraps to int.MinValue in 32-bit arithmetic
    [InlineData(new[] { int.MinValue, -1 }, int.MaxValue)] // likewise
    [InlineData(new[] { int.MaxValue, int.MaxValue }, -2)]
    public void NoPair(int[] nums, int target) => Assert.Null(HashTableAlgorithms.TwoSum(nums, target));

    [Fact]
    public void NullThrows() =>
        Assert.Equal("nums", Assert.Throws<ArgumentNullException>(() => HashTableAlgorithms.TwoSum(null!, 0)).ParamName);

    public static TheoryData<int, string> FixtureRows => HashTableCases.Rows("two_sum");

    [Theory]
    [MemberData(nameof(FixtureRows))]
    public void FixtureCase(int index, string label)
    {
        // The fixture stores the sum of a valid pair (or null for none); any valid pair counts.
        var c = HashTableCases.Of("two_sum")[index];
        var nums = HashTableCases.Ints(c.GetProperty("nums"));
        int target = c.GetProperty("target").GetInt32();
        var pair = HashTableAlgorithms.TwoSum(nums, target);
        if (c.GetProperty("expected_pair_sum").ValueKind == System.Text.Json.JsonValueKind.Null)
            Assert.True(pair is null, $"case {index} {label}: expected none, got {pair}");
        else
            AssertValid(nums, target, pair);
    }

    [Fact]
    public void MatchesOracleOnRandomArrays()
    {
        // Small values make pairs and duplicates common; the extremes probe overflow; the target is sometimes a real pair sum.
        var value = Gen.Frequency((4, Gen.Int[-15, 15]), (1, Gen.Int), (1, Gen.OneOf(int.MinValue, -1, 0, 1, int.MaxValue)));
        var gen = Gen.Select(value.Array[0, 40], Gen.Int[-30, 30], Gen.Int[0, 2], Gen.Int, (nums, small, mode, seed) =>
        {
            var rng = new Random(seed);
            int target = mode switch
            {
                0 => small,
                1 when nums.Length >= 2 => unchecked(nums[rng.Next(nums.Length)] + nums[rng.Next(nums.Length)]),
                _ => rng.Next(int.MinValue, int.MaxValue),
            };
            return (nums, target);
        });
        SeededSample.Run(gen, p =>
        {
            var expected = Oracle(p.nums, p.target);
            var actual = HashTableAlgorithms.TwoSum(p.nums, p.target);
            // Documented choice: the pair with the smallest j, then the smallest i; the oracle finds the same.
            Assert.Equal(expected, actual);
            if (actual is not null) AssertValid(p.nums, p.target, actual);
        }, seed: 1, iterations: 3000);
    }
}
