using CsCheck;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Tests.Algorithms;

public sealed class HappyNumberTests
{
    /// <summary>
    /// Brute-force oracle from the definition, digits read from the decimal string: happy when 1 appears within
    /// 1000 steps (after one step every term is below 1000, so a longer walk only repeats itself).
    /// </summary>
    static bool Oracle(int n)
    {
        long x = n;
        for (int step = 0; step < 1000 && x != 1; step++)
            x = x.ToString(System.Globalization.CultureInfo.InvariantCulture).Sum(d => (d - '0') * (d - '0'));
        return x == 1;
    }

    // OEIS A007770, the happy numbers up to 100.
    static readonly int[] HappyUpTo100 = [1, 7, 10, 13, 19, 23, 28, 31, 32, 44, 49, 68, 70, 79, 82, 86, 91, 94, 97, 100];

    [Fact]
    public void HappyNumbersUpTo100()
    {
        Assert.Equal(HappyUpTo100, Enumerable.Range(1, 100).Where(HashTableAlgorithms.IsHappy));
        Assert.Equal(HappyUpTo100, Enumerable.Range(1, 100).Where(HashTableAlgorithms.IsHappyWithSet));
    }

    [Theory]
    [InlineData(19, true)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(4, false)] // on the unhappy cycle 4 → 16 → 37 → 58 → 89 → 145 → 42 → 20 → 4
    [InlineData(1_000_000_000, true)]
    [InlineData(1_999_999_999, false)] // largest first step of any int: 1 + 9·81 = 730
    [InlineData(int.MaxValue, false)]
    public void Examples(int n, bool expected)
    {
        Assert.Equal(expected, HashTableAlgorithms.IsHappy(n));
        Assert.Equal(expected, HashTableAlgorithms.IsHappyWithSet(n));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void NonPositiveThrows(int n)
    {
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => HashTableAlgorithms.IsHappy(n)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => HashTableAlgorithms.IsHappyWithSet(n)).ParamName);
    }

    [Fact]
    public void FloydAgreesWithTheSetVariantUpTo100000()
    {
        for (int n = 1; n <= 100_000; n++)
            Assert.True(HashTableAlgorithms.IsHappy(n) == HashTableAlgorithms.IsHappyWithSet(n), $"n = {n}");
    }

    public static TheoryData<int, string> FixtureRows => HashTableCases.Rows("happy");

    [Theory]
    [MemberData(nameof(FixtureRows))]
    public void FixtureCase(int index, string label)
    {
        var c = HashTableCases.Of("happy")[index];
        int n = c.GetProperty("n").GetInt32();
        bool expected = c.GetProperty("expected").GetBoolean();
        Assert.True(expected == HashTableAlgorithms.IsHappy(n), $"case {index} {label}: IsHappy");
        Assert.True(expected == HashTableAlgorithms.IsHappyWithSet(n), $"case {index} {label}: IsHappyWithSet");
    }

    [Fact]
    public void MatchesOracleOnRandomN() =>
        SeededSample.Run(Gen.Int[1, int.MaxValue], n =>
        {
            bool expected = Oracle(n);
            Assert.Equal(expected, HashTableAlgorithms.IsHappy(n));
            Assert.Equal(expected, HashTableAlgorithms.IsHappyWithSet(n));
        }, seed: 202, iterations: 3000);
}
