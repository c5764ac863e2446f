using System.Text;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// Unicode Normalization Form C (UAX #15: canonical decomposition, canonical ordering, canonical composition), on
/// <see cref="UnicodeNfcData"/>. Needed because the project runs in invariant globalization mode, where
/// <c>string.Normalize</c> leaves non-ASCII text unchanged.
/// </summary>
internal static class UnicodeNfc
{
    // Hangul syllables compose and decompose algorithmically (Unicode §3.12).
    const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28,
        NCount = VCount * TCount, SCount = LCount * NCount;
    const int Excluded = 0x200000;

    static readonly Dictionary<int, (int First, int Second)> Decomposition = new();
    static readonly Dictionary<(int, int), int> Composition = new();
    static readonly Dictionary<int, int> CombiningClass = new();

    static UnicodeNfc()
    {
        var d = UnicodeNfcData.Decompositions;
        for (int i = 0; i < d.Length; i += 3)
        {
            int cp = d[i] & (Excluded - 1);
            Decomposition[cp] = (d[i + 1], d[i + 2]);
            if ((d[i] & Excluded) == 0 && d[i + 2] != 0) Composition[(d[i + 1], d[i + 2])] = cp;
        }
        var c = UnicodeNfcData.CombiningClasses;
        for (int i = 0; i < c.Length; i += 3)
        {
            for (int cp = c[i]; cp <= c[i + 1]; cp++) CombiningClass[cp] = c[i + 2];
        }
    }

    /// <summary>The NFC form of <paramref name="text"/> (lone surrogates are kept as they are).</summary>
    internal static string Normalize(string text)
    {
        if (text.All(ch => ch < 0xC0)) return text; // nothing below U+00C0 decomposes or combines
        var points = new List<int>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
                ? char.ConvertToUtf32(text[i], text[++i])
                : text[i];
            Decompose(cp, points);
        }
        Reorder(points);
        Compose(points);
        var sb = new StringBuilder(points.Count);
        foreach (int cp in points)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) sb.Append((char)cp);
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    static int Ccc(int cp) => CombiningClass.TryGetValue(cp, out var k) ? k : 0;

    static void Decompose(int cp, List<int> into)
    {
        int s = cp - SBase;
        if (s is >= 0 and < SCount)
        {
            into.Add(LBase + s / NCount);
            into.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) into.Add(TBase + s % TCount);
        }
        else if (Decomposition.TryGetValue(cp, out var parts))
        {
            Decompose(parts.First, into);
            if (parts.Second != 0) Decompose(parts.Second, into);
        }
        else
        {
            into.Add(cp);
        }
    }

    // Canonical ordering: a stable sort of each run of non-starters by combining class.
    static void Reorder(List<int> points)
    {
        for (int i = 1; i < points.Count; i++)
        {
            int k = Ccc(points[i]);
            if (k == 0) continue;
            for (int j = i; j > 0 && Ccc(points[j - 1]) > k; j--) (points[j - 1], points[j]) = (points[j], points[j - 1]);
        }
    }

    // Canonical composition: each character joins the last starter unless a character between them blocks it
    // (has combining class 0, or one at least as high as its own).
    static void Compose(List<int> points)
    {
        if (points.Count == 0) return;
        int starter = 0, write = 1, lastClass = Ccc(points[0]) == 0 ? 0 : 256;
        for (int read = 1; read < points.Count; read++)
        {
            int cp = points[read], k = Ccc(cp);
            bool unblocked = lastClass < k || (lastClass == 0 && write == starter + 1);
            if (unblocked && TryCompose(points[starter], cp, out int composite))
            {
                points[starter] = composite;
                continue;
            }
            if (k == 0) starter = write;
            lastClass = k;
            points[write++] = cp;
        }
        points.RemoveRange(write, points.Count - write);
    }

    static bool TryCompose(int first, int second, out int composite)
    {
        int l = first - LBase, v = second - VBase, s = first - SBase, t = second - TBase;
        if (l is >= 0 and < LCount && v is >= 0 and < VCount)
        {
            composite = SBase + (l * VCount + v) * TCount;
            return true;
        }
        if (s is >= 0 and < SCount && s % TCount == 0 && t is > 0 and < TCount)
        {
            composite = first + t;
            return true;
        }
        return Composition.TryGetValue((first, second), out composite);
    }
}
