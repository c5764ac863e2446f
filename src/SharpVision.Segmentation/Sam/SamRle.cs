using SharpVision.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// A binary mask as an uncompressed run-length encoding in pycocotools' layout: pixels in column-major
/// (Fortran) order, alternating runs of 0s and 1s starting with 0s (a leading count of 0 when the first pixel
/// is set). The generator keeps its masks in this form between stages, so memory grows with the masks'
/// outlines, not with H × W per mask. Follows segment-anything utils/amg.py (dca509f) <c>mask_to_rle_pytorch</c>,
/// <c>rle_to_mask</c>, <c>area_from_rle</c>; <see cref="ToCocoString"/> is pycocotools' compressed form.
/// </summary>
/// <param name="Height">H.</param>
/// <param name="Width">W.</param>
/// <param name="Counts">Run lengths, summing to H × W.</param>
public sealed record SamRle(int Height, int Width, int[] Counts)
{
    /// <summary>Pixels set: the sum of the odd-position runs (amg.py <c>area_from_rle</c>).</summary>
    public long Area
    {
        get
        {
            long area = 0;
            for (int i = 1; i < Counts.Length; i += 2) area += Counts[i];
            return area;
        }
    }

    /// <summary>Encodes each of a batch of masks (amg.py <c>mask_to_rle_pytorch</c>).</summary>
    /// <param name="masks">(N, H, W) bool, on any device.</param>
    /// <returns>N encodings.</returns>
    /// <exception cref="ArgumentException"><paramref name="masks"/> is not (N, H, W) bool.</exception>
    public static IReadOnlyList<SamRle> FromMasks(Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        Shapes.RequireRank(masks, 3, "(N, H, W)", nameof(masks));
        if (masks.dtype != ScalarType.Bool)
            throw new ArgumentException($"masks must be bool; got {masks.dtype}", nameof(masks));
        int n = (int)masks.shape[0], h = (int)masks.shape[1], w = (int)masks.shape[2];
        long pixels = (long)h * w;
        if (n == 0) return [];
        using var scope = NewDisposeScope();
        // Fortran order: (N, H, W) -> (N, W, H) -> (N, W*H)
        var flat = masks.permute(0, 2, 1).flatten(1);
        // (changes, 2): (mask, i) where pixel i + 1 differs from pixel i, in mask-major order
        var changes = flat.slice(1, 1, pixels, 1).logical_xor(flat.slice(1, 0, pixels - 1, 1)).nonzero().cpu();
        var first = flat.select(1, 0).cpu().data<bool>().ToArray();
        var pairs = changes.numel() == 0 ? [] : changes.data<long>().ToArray();
        var result = new SamRle[n];
        int p = 0;
        for (int m = 0; m < n; m++)
        {
            var counts = new List<int>();
            if (first[m]) counts.Add(0);
            long start = 0;
            for (; p < pairs.Length && pairs[p] == m; p += 2)
            {
                long end = pairs[p + 1] + 1;
                counts.Add((int)(end - start));
                start = end;
            }
            counts.Add((int)(pixels - start));
            result[m] = new SamRle(h, w, [.. counts]);
        }
        return result;
    }

    /// <summary>Encodes one row-major (H, W) mask.</summary>
    /// <exception cref="ArgumentException">The array is not H × W long.</exception>
    public static SamRle FromMask(bool[] mask, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.LongLength != (long)height * width)
            throw new ArgumentException($"mask must hold height × width = {(long)height * width} values; got {mask.LongLength}", nameof(mask));
        var counts = new List<int>();
        bool current = false;
        int run = 0;
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                if (mask[y * width + x] != current)
                {
                    counts.Add(run);
                    current = !current;
                    run = 0;
                }
                run++;
            }
        counts.Add(run);
        return new SamRle(height, width, [.. counts]);
    }

    /// <summary>Decodes to a row-major (H, W) mask (amg.py <c>rle_to_mask</c>).</summary>
    /// <exception cref="InvalidDataException">The runs do not sum to H × W.</exception>
    public bool[] ToMask()
    {
        long pixels = (long)Height * Width;
        var mask = new bool[pixels];
        long index = 0;
        bool value = false;
        foreach (int count in Counts)
        {
            if (count < 0 || index + count > pixels)
                throw new InvalidDataException($"RLE runs exceed the {Height}x{Width} mask");
            if (value)
                // Fortran index i is pixel (y = i % H, x = i / H)
                for (long i = index; i < index + count; i++) mask[i % Height * Width + i / Height] = true;
            index += count;
            value = !value;
        }
        if (index != pixels) throw new InvalidDataException($"RLE runs sum to {index}; a {Height}x{Width} mask needs {pixels}");
        return mask;
    }

    /// <summary>Decodes to an (H, W) bool tensor on the CPU.</summary>
    public Tensor ToTensor() => tensor(ToMask(), [Height, Width]);

    /// <summary>pycocotools' compressed <c>counts</c> string of this mask (what <c>coco_encode_rle</c> returns).</summary>
    public string ToCocoString() => CocoRle.Encode(Counts);

    /// <summary>Reads pycocotools' compressed <c>counts</c> string.</summary>
    /// <exception cref="FormatException">Not a valid counts string.</exception>
    /// <exception cref="InvalidDataException">Its runs do not sum to H × W.</exception>
    public static SamRle FromCocoString(string counts, int height, int width)
    {
        var rle = new SamRle(height, width, CocoRle.Decode(counts));
        long sum = rle.Counts.Sum(c => (long)c);
        if (sum != (long)height * width) throw new InvalidDataException($"RLE runs sum to {sum}; a {height}x{width} mask needs {(long)height * width}");
        return rle;
    }
}
