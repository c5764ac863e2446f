using System.Text;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// pycocotools' compressed RLE string (maskApi.c <c>rleToString</c> / <c>rleFrString</c>, the <c>counts</c> of a
/// COCO <c>{"size": [h, w], "counts": "..."}</c> segmentation). Written here because no maintained .NET package
/// implements the COCO mask API.
/// </summary>
/// <remarks>
/// Each run count, from the fourth on, is stored as its difference from the count two before (the previous run of
/// the same value); each value is then written as a signed LEB128-like sequence of 5-bit groups, least significant
/// first, one character per group: <c>'0' + (group | 0x20 when more follow)</c>, the last group's bit 0x10 being the sign.
/// </remarks>
public static class CocoRle
{
    /// <summary>The compressed string of uncompressed run lengths.</summary>
    public static string Encode(IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var s = new StringBuilder(counts.Count * 2);
        for (int i = 0; i < counts.Count; i++)
        {
            long x = counts[i];
            if (i > 2) x -= counts[i - 2]; // pycocotools' i > 2, not i >= 2
            bool more = true;
            while (more)
            {
                int c = (int)(x & 0x1f);
                x >>= 5; // arithmetic: negative differences end at -1
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                s.Append((char)(c + 48));
            }
        }
        return s.ToString();
    }

    /// <summary>The run lengths of a compressed string.</summary>
    /// <exception cref="FormatException">A character outside '0'…'o', an unfinished value, or a negative run.</exception>
    public static int[] Decode(string counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var result = new List<int>();
        int p = 0;
        while (p < counts.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= counts.Length) throw new FormatException($"COCO RLE counts end inside a value at character {p}");
                int c = counts[p] - 48;
                if (c is < 0 or > 0x3f || k > 6) throw new FormatException($"COCO RLE counts: bad character '{counts[p]}' at {p}");
                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1L << (5 * k);
            }
            if (result.Count > 2) x += result[^2];
            if (x is < 0 or > int.MaxValue) throw new FormatException($"COCO RLE counts: run {result.Count} is {x}");
            result.Add((int)x);
        }
        return [.. result];
    }
}
