using System.Text;
using CsCheck;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Tests.Algorithms;

public sealed class ValidAnagramTests
{
    /// <summary>Brute-force oracle: sort both strings' code points (lone surrogates as their code unit) and compare.</summary>
    static bool Oracle(string s, string t) => CodePoints(s).Order().SequenceEqual(CodePoints(t).Order());

    static List<int> CodePoints(string text)
    {
        var result = new List<int>();
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                result.Add(char.ConvertToUtf32(text[i], text[i + 1]));
                i++;
            }
            else result.Add(text[i]);
        }
        return result;
    }

    [Theory]
    [InlineData("anagram", "nagaram", true)]
    [InlineData("rat", "car", false)]
    [InlineData("", "", true)]
    [InlineData("a", "", false)]
    [InlineData("ab", "a", false)]
    [InlineData("aacc", "ccac", false)]
    [InlineData("Listen", "Silent", false)] // case-sensitive
    [InlineData("Listen", "enLits", true)]
    [InlineData("ÿéàü", "üàéÿ", true)] // Latin-1, above ASCII
    [InlineData("日本語", "語日本", true)]
    [InlineData("日本語", "語日日", false)]
    [InlineData("e\u0301", "\u00e9", false)] // ordinal: no normalisation
    public void Examples(string s, string t, bool expected) => Assert.Equal(expected, HashTableAlgorithms.IsAnagram(s, t));

    [Fact]
    public void SurrogatePairIsOneCharacter()
    {
        // U+1F600 U+1F601 reordered: an anagram.
        Assert.True(HashTableAlgorithms.IsAnagram("\uD83D\uDE00\uD83D\uDE01x", "x\uD83D\uDE01\uD83D\uDE00"));
        // Same UTF-16 code units, different pairs (U+1F600 U+1F641 vs U+1F601 U+1F640): not an anagram, though a
        // char-level count would say it is.
        Assert.False(HashTableAlgorithms.IsAnagram("\uD83D\uDE00\uD83D\uDE41", "\uD83D\uDE01\uD83D\uDE40"));
        Assert.False(HashTableAlgorithms.IsAnagram("\uD800\uDC00\uD801\uDC01", "\uD800\uDC01\uD801\uDC00"));
        // A pair is not the same as its halves split apart and reversed (low, high = two lone surrogates).
        Assert.False(HashTableAlgorithms.IsAnagram("\uD83D\uDE00", "\uDE00\uD83D"));
    }

    [Fact]
    public void LoneSurrogatesCountByCodeUnit()
    {
        // Rune enumeration would read each of these as U+FFFD and call them anagrams.
        Assert.False(HashTableAlgorithms.IsAnagram("\uD800", "\uDC00"));
        Assert.False(HashTableAlgorithms.IsAnagram("\uD800", "\uFFFD"));
        Assert.False(HashTableAlgorithms.IsAnagram("a\uD800b", "a\uD801b"));
        // Lone surrogates rearranged without forming a pair (a high one directly before a low one would pair up).
        Assert.True(HashTableAlgorithms.IsAnagram("\uD800ab\uDC00", "b\uDC00a\uD800"));
        Assert.True(HashTableAlgorithms.IsAnagram("x\uDC00\uD800", "\uDC00x\uD800"));
        // The same code units, but in t the lone high and low surrogates are adjacent and form one code point.
        Assert.False(HashTableAlgorithms.IsAnagram("\uDC00x\uD800", "x\uD800\uDC00"));
    }

    [Fact]
    public void LongTextTakesTheTablePaths()
    {
        // ≥ 4096 chars: Latin-1 blocks, then a late non-Latin-1 char forcing the fallback to the BMP table.
        var rng = new Random(242);
        var chars = Enumerable.Range(0, 10_001).Select(_ => (char)rng.Next('a', 'a' + 20)).ToArray();
        var s = new string(chars);
        var t = new string(chars.Reverse().ToArray());
        Assert.True(HashTableAlgorithms.IsAnagram(s, t));
        Assert.False(HashTableAlgorithms.IsAnagram(s, t[..^1] + "z"));
        Assert.True(HashTableAlgorithms.IsAnagram(s + "Ω", "Ω" + t));
        Assert.False(HashTableAlgorithms.IsAnagram(s + "Ω", "Ω" + t[1..] + "\uD800"));
        Assert.True(HashTableAlgorithms.IsAnagram(s + "\uD83D\uDE00\uDC00", "\uDC00" + t + "\uD83D\uDE00"));
        Assert.False(HashTableAlgorithms.IsAnagram(s + "\uD83D\uDE00\uD83D\uDE41", t + "\uD83D\uDE01\uD83D\uDE40"));
        // U+10000 U+10401 against U+10001 U+10400: the same code units, paired differently across two high surrogates.
        Assert.False(HashTableAlgorithms.IsAnagram(s + "Ω\uD800\uDC00\uD801\uDC01", t + "Ω\uD800\uDC01\uD801\uDC00"));
        Assert.True(HashTableAlgorithms.IsAnagram(s + "Ω\uD800\uDC00\uD801\uDC01", "\uD801\uDC01" + t + "Ω\uD800\uDC00"));
    }

    [Fact]
    public void NullThrows()
    {
        Assert.Equal("s", Assert.Throws<ArgumentNullException>(() => HashTableAlgorithms.IsAnagram(null!, "a")).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentNullException>(() => HashTableAlgorithms.IsAnagram("a", null!)).ParamName);
    }

    public static TheoryData<int, string> FixtureRows => HashTableCases.Rows("anagram");

    [Theory]
    [MemberData(nameof(FixtureRows))]
    public void FixtureCase(int index, string label)
    {
        var c = HashTableCases.Of("anagram")[index];
        var actual = HashTableAlgorithms.IsAnagram(c.GetProperty("s").GetString()!, c.GetProperty("t").GetString()!);
        Assert.True(c.GetProperty("expected").GetBoolean() == actual, $"case {index} {label}: got {actual}");
    }

    /// <summary>Code points from several classes: few ASCII letters (so anagrams are likely), Latin-1, other BMP, astral, lone surrogates.</summary>
    static readonly Gen<string> Piece = Gen.Frequency(
        (6, Gen.Char['a', 'e'].Select(c => c.ToString())),
        (2, Gen.Char['\u00A0', '\u00FF'].Select(c => c.ToString())),
        (2, Gen.Char['\u0400', '\u04FF'].Select(c => c.ToString())),
        (1, Gen.Char['\u4E00', '\u4E0F'].Select(c => c.ToString())),
        (2, Gen.Int[0x1F600, 0x1F60F].Select(char.ConvertFromUtf32)),
        // Pairs under different high surrogates sharing low surrogates (U+10000, U+10400, ... U+10FC00, plus 0-3).
        (1, Gen.Select(Gen.OneOf(0, 1, 0x7C, 0x3FF), Gen.Int[0, 3], (block, low) => char.ConvertFromUtf32(0x10000 + block * 0x400 + low))),
        (1, Gen.Char['\uD800', '\uD803'].Select(c => c.ToString())),
        (1, Gen.Char['\uDC00', '\uDC03'].Select(c => c.ToString())));

    static Gen<string[]> Pieces(int maxLength) => Piece.Array[0, maxLength];

    /// <summary>s, and t = a shuffle of s's pieces, sometimes with one piece replaced, sometimes unrelated.</summary>
    static Gen<(string, string)> Pairs(Gen<string[]> pieces) =>
        Gen.Select(pieces, pieces, Gen.Int[0, 3], Gen.Int, Piece, (a, b, mode, seed, replacement) =>
        {
            var rng = new Random(seed);
            string[] shuffled = [.. a.OrderBy(_ => rng.Next())];
            if (mode == 1 && shuffled.Length > 0) shuffled[rng.Next(shuffled.Length)] = replacement;
            var t = mode == 3 ? b : shuffled;
            return (string.Concat(a), string.Concat(t));
        });

    [Fact]
    public void MatchesOracleOnRandomUnicode() =>
        SeededSample.Run(Pairs(Pieces(40)), p => Assert.Equal(Oracle(p.Item1, p.Item2), HashTableAlgorithms.IsAnagram(p.Item1, p.Item2)),
            seed: 242, iterations: 2000);

    [Fact]
    public void MatchesOracleOnLongRandomUnicode() =>
        SeededSample.Run(Pairs(Pieces(6000)), p => Assert.Equal(Oracle(p.Item1, p.Item2), HashTableAlgorithms.IsAnagram(p.Item1, p.Item2)),
            seed: 2420, iterations: 60);

    [Fact]
    public void MatchesOracleOnRandomLatin1()
    {
        var latin1 = Gen.Char['\u0000', '\u00FF'].Array[0, 5000].Select(a => new string(a));
        var gen = Gen.Select(latin1, Gen.Int, Gen.Bool, (s, seed, mutate) =>
        {
            var rng = new Random(seed);
            var t = s.OrderBy(_ => rng.Next()).ToArray();
            if (mutate && t.Length > 0) t[rng.Next(t.Length)] = (char)rng.Next(256);
            return (s, new string(t));
        });
        SeededSample.Run(gen, p => Assert.Equal(Oracle(p.s, p.Item2), HashTableAlgorithms.IsAnagram(p.s, p.Item2)),
            seed: 24200, iterations: 200);
    }
}
