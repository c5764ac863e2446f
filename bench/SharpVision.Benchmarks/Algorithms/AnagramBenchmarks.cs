using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Benchmarks.Algorithms;

/// <summary>
/// IsAnagram on two 1 Mi-char strings (t a shuffle of s, so the whole input is read and the answer is true).
/// Ascii: printable ASCII, 1 MiB per string as ASCII text (2 MiB as UTF-16); throughput = 2 MiB / mean.
/// Mixed: Latin, Cyrillic, Greek, CJK and emoji (surrogate pairs, about a fifth of the chars), 1 Mi UTF-16 chars per string.
/// Baseline: the textbook Dictionary&lt;Rune, int&gt; over EnumerateRunes.
/// </summary>
[MemoryDiagnoser, MinColumn]
public class AnagramBenchmarks
{
    const int Length = 1 << 20;

    [Params("Ascii", "Mixed")]
    public string Text { get; set; } = "Ascii";

    string s = "", t = "";

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(242);
        var pieces = new List<string>();
        int chars = 0;
        while (chars < Length)
        {
            string piece = Text == "Ascii"
                ? ((char)rng.Next(32, 127)).ToString()
                : rng.Next(10) switch
                {
                    < 3 => ((char)rng.Next('a', 'z' + 1)).ToString(),
                    3 => ((char)rng.Next(0x0430, 0x0450)).ToString(), // Cyrillic
                    4 => ((char)rng.Next(0x03B1, 0x03CA)).ToString(), // Greek
                    < 7 => ((char)rng.Next(0x4E00, 0x4F00)).ToString(), // CJK
                    _ => char.ConvertFromUtf32(rng.Next(0x1F600, 0x1F650)), // emoji: a surrogate pair
                };
            if (chars + piece.Length > Length) piece = " ";
            pieces.Add(piece);
            chars += piece.Length;
        }
        s = string.Concat(pieces);
        var shuffled = pieces.ToArray();
        rng.Shuffle(shuffled);
        t = string.Concat(shuffled);
        if (s.Length != Length || t.Length != Length || !HashTableAlgorithms.IsAnagram(s, t) || !RuneDictionary())
            throw new InvalidOperationException("benchmark inputs are not anagrams of the intended length");
    }

    [Benchmark]
    public bool IsAnagram() => HashTableAlgorithms.IsAnagram(s, t);

    [Benchmark(Baseline = true)]
    public bool RuneDictionary()
    {
        if (s.Length != t.Length) return false;
        var counts = new Dictionary<Rune, int>();
        foreach (var r in s.EnumerateRunes()) CollectionsMarshal.GetValueRefOrAddDefault(counts, r, out _)++;
        foreach (var r in t.EnumerateRunes())
            if (--CollectionsMarshal.GetValueRefOrAddDefault(counts, r, out _) < 0) return false;
        return true;
    }
}
