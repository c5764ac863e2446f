using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace SharpVision.Algorithms.HashTables;

// LeetCode 349 "Intersection of Two Arrays", for every int rather than the notes' 1000-slot table (0..999 only).
public static partial class HashTableAlgorithms
{
    /// <summary>A value range at most this many times the total input length is marked in bitmaps, not hashed.</summary>
    const long DenseRangeFactor = 16;

    /// <summary>Upper bound on the dense path's bitmap, in bits (128 MiB), whatever the inputs' length.</summary>
    const long MaxDenseBits = 1L << 30;

    /// <summary>Results shorter than this are sorted by comparison; longer ones by radix sort.</summary>
    const int RadixSortThreshold = 256;

    /// <summary>
    /// The distinct values present in both arrays, in ascending order. Works for every <see cref="int"/>
    /// (negative values, <see cref="int.MinValue"/>, <see cref="int.MaxValue"/>); either array may be empty.
    /// </summary>
    /// <remarks>
    /// O(n + m) expected time; O(n + m) extra space, pooled (the result aside, nothing is left allocated). The
    /// table is built on the smaller array and the larger one is streamed past it, in one of two layouts:
    /// <list type="bullet">
    /// <item>Dense values (the smaller array's value range is at most 16 × (n + m)): one bit per value of the range
    /// for each array, ANDed word by word; reading the set bits in order yields the result already sorted.</item>
    /// <item>Otherwise: both arrays are split by value into cache-sized partitions (a counting-sort pass), and each
    /// partition is intersected with an open-addressing hash set (linear probing; multiply-shift hashing with a
    /// random odd multiplier per call, so no fixed input is slow on every call) whose slots also record "already
    /// reported". Partitions come in value order; each one's hits are radix sorted, which keeps the call linear.</item>
    /// </list>
    /// </remarks>
    /// <param name="nums1">First array (any length, duplicates allowed).</param>
    /// <param name="nums2">Second array (any length, duplicates allowed).</param>
    /// <returns>A new array of the common values, each once, ascending.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="nums1"/> or <paramref name="nums2"/> is null.</exception>
    public static int[] Intersection(int[] nums1, int[] nums2)
    {
        ArgumentNullException.ThrowIfNull(nums1);
        ArgumentNullException.ThrowIfNull(nums2);
        var (small, large) = nums1.Length <= nums2.Length ? (nums1, nums2) : (nums2, nums1);
        if (small.Length == 0) return [];
        var (min, max) = MinMax(small);
        long range = (long)max - min + 1;
        return range <= DenseRangeFactor * ((long)small.Length + large.Length) && range <= MaxDenseBits
            ? DenseIntersection(small, large, min, (uint)range)
            : HashedIntersection(small, large, min, max);
    }

    static (int Min, int Max) MinMax(ReadOnlySpan<int> values)
    {
        int i = 0, min = int.MaxValue, max = int.MinValue;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<int>.Count)
        {
            var vmin = new Vector<int>(values);
            var vmax = vmin;
            for (i = Vector<int>.Count; i <= values.Length - Vector<int>.Count; i += Vector<int>.Count)
            {
                var v = new Vector<int>(values[i..]);
                vmin = Vector.Min(vmin, v);
                vmax = Vector.Max(vmax, v);
            }
            for (int k = 0; k < Vector<int>.Count; k++)
            {
                min = Math.Min(min, vmin[k]);
                max = Math.Max(max, vmax[k]);
            }
        }
        for (; i < values.Length; i++)
        {
            min = Math.Min(min, values[i]);
            max = Math.Max(max, values[i]);
        }
        return (min, max);
    }

    /// <summary>Bitmap path: bit (x - min) marks value x; <paramref name="range"/> = max - min + 1 of the smaller array.</summary>
    static int[] DenseIntersection(int[] small, int[] large, int min, uint range)
    {
        int words = (int)((range + 63) / 64);
        ulong[] inSmall = ArrayPool<ulong>.Shared.Rent(words), inLarge = ArrayPool<ulong>.Shared.Rent(words);
        try
        {
            Array.Clear(inSmall, 0, words);
            Array.Clear(inLarge, 0, words);
            // Offsets are taken modulo 2^32, so x - min cannot overflow; a value of the larger array outside the
            // smaller one's range wraps to an offset ≥ range and is skipped. (C# masks a ulong shift count to 6 bits.)
            foreach (int x in small)
            {
                uint offset = unchecked((uint)x - (uint)min);
                inSmall[offset >> 6] |= 1UL << (int)offset;
            }
            foreach (int x in large)
            {
                uint offset = unchecked((uint)x - (uint)min);
                if (offset < range) inLarge[offset >> 6] |= 1UL << (int)offset;
            }
            int count = 0;
            for (int w = 0; w < words; w++)
            {
                inSmall[w] &= inLarge[w];
                count += BitOperations.PopCount(inSmall[w]);
            }
            var result = new int[count];
            int k = 0;
            for (int w = 0; w < words; w++)
            {
                for (ulong bits = inSmall[w]; bits != 0; bits &= bits - 1)
                    result[k++] = unchecked(min + (w * 64 + BitOperations.TrailingZeroCount(bits)));
            }
            return result;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(inSmall);
            ArrayPool<ulong>.Shared.Return(inLarge);
        }
    }

    /// <summary>
    /// Hash path for values spread over a range too wide for a bitmap. One big table would make every probe a cache
    /// miss (16 MiB of slots for a million values), so both arrays are first split by value into partitions of about
    /// <see cref="PartitionTarget"/> elements of the smaller array (an MSD radix step: two sequential passes each),
    /// and each partition is intersected with its own small, cache-resident table. Partitions are in value order, so
    /// sorting each one's hits sorts the whole result.
    /// </summary>
    static int[] HashedIntersection(int[] small, int[] large, int min, int max)
    {
        // A table of 2^30+ slots is past what one array holds; inputs that large (a 1 GiB+ smaller array) take
        // the framework's set and sort instead.
        if (small.Length > 1 << 28) return HashSetIntersection(small, large);
        // Partition of x: (x - min) >> shift, monotone in x; shift leaves at most 2^partitionBits partitions.
        uint span = unchecked((uint)max - (uint)min);
        int partitionBits = Math.Clamp(BitOperations.Log2((uint)(small.Length / PartitionTarget)), 0, 12);
        // (Capped at 31: C# takes a uint shift count mod 32, and 31 already leaves at most two partitions.)
        int shift = Math.Clamp(32 - BitOperations.LeadingZeroCount(span) - partitionBits, 0, 31);
        int partitions = (int)(span >> shift) + 1;

        int[] smallParts = ArrayPool<int>.Shared.Rent(small.Length);
        int[] largeParts = ArrayPool<int>.Shared.Rent(large.Length);
        int[] hits = ArrayPool<int>.Shared.Rent(small.Length);
        int[] smallStart = ArrayPool<int>.Shared.Rent(partitions + 1);
        int[] largeStart = ArrayPool<int>.Shared.Rent(partitions + 1);
        ulong[]? slots = null;
        try
        {
            Scatter(small, min, span, shift, partitions, smallStart, smallParts);
            Scatter(large, min, span, shift, partitions, largeStart, largeParts);
            int largestPart = 0;
            for (int p = 0; p < partitions; p++) largestPart = Math.Max(largestPart, smallStart[p + 1] - smallStart[p]);
            slots = ArrayPool<ulong>.Shared.Rent(TableCapacity(largestPart));
            // Multiply-shift hashing (Dietzfelbinger et al.): the top bits of value × a random odd 64-bit multiplier.
            ulong multiplier = (ulong)Random.Shared.NextInt64() << 1 | 1;
            int count = 0;
            for (int p = 0; p < partitions; p++)
            {
                int found = IntersectPartition(
                    smallParts.AsSpan(smallStart[p], smallStart[p + 1] - smallStart[p]),
                    largeParts.AsSpan(largeStart[p], largeStart[p + 1] - largeStart[p]),
                    slots, multiplier, hits.AsSpan(count));
                SortAscending(hits.AsSpan(count, found));
                count += found;
            }
            return hits.AsSpan(0, count).ToArray();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(smallParts);
            ArrayPool<int>.Shared.Return(largeParts);
            ArrayPool<int>.Shared.Return(hits);
            ArrayPool<int>.Shared.Return(smallStart);
            ArrayPool<int>.Shared.Return(largeStart);
            if (slots is not null) ArrayPool<ulong>.Shared.Return(slots);
        }
    }

    /// <summary>Smaller-array elements per partition of the hash path: a 2K-slot table of 16 KiB, inside L1.</summary>
    const int PartitionTarget = 512;

    /// <summary>Slots for a table of <paramref name="count"/> values: a power of two ≥ 2 × count, so load ≤ 1/2.</summary>
    static int TableCapacity(int count) => 1 << Math.Max(4, BitOperations.Log2((uint)Math.Max(count, 1)) + 2);

    /// <summary>
    /// Counting-sort scatter of <paramref name="values"/> into <paramref name="parts"/> by partition; values outside
    /// [min, min + span] (only possible for the larger array) are dropped, as they cannot be in the intersection.
    /// Fills <paramref name="start"/>[0..partitions] with each partition's offset (start[partitions] = number kept).
    /// </summary>
    static void Scatter(int[] values, int min, uint span, int shift, int partitions, int[] start, int[] parts)
    {
        Array.Clear(start, 0, partitions + 1);
        foreach (int x in values)
        {
            uint offset = unchecked((uint)x - (uint)min);
            if (offset <= span) start[(offset >> shift) + 1]++;
        }
        for (int p = 1; p <= partitions; p++) start[p] += start[p - 1];
        // Advance a copy of the offsets while writing, so start keeps the partition boundaries.
        int[] next = ArrayPool<int>.Shared.Rent(partitions);
        try
        {
            Array.Copy(start, next, partitions);
            foreach (int x in values)
            {
                uint offset = unchecked((uint)x - (uint)min);
                if (offset <= span) parts[next[offset >> shift]++] = x;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(next);
        }
    }

    /// <summary>
    /// Distinct values of <paramref name="small"/> that occur in <paramref name="large"/>, written to
    /// <paramref name="hits"/> in the larger array's order; returns how many.
    /// </summary>
    static int IntersectPartition(ReadOnlySpan<int> small, ReadOnlySpan<int> large, ulong[] slots, ulong multiplier, Span<int> hits)
    {
        if (small.IsEmpty || large.IsEmpty) return 0;
        // Slot layout (one ulong, so a probe reads one word): bits 0-31 the value, bit 32 "occupied", bit 33
        // "already reported". An all-zero slot is empty, so every int, 0 included, can be stored.
        const ulong Occupied = 1UL << 32, Reported = 1UL << 33;
        int capacity = TableCapacity(small.Length), mask = capacity - 1;
        int shift = 64 - BitOperations.Log2((uint)capacity);
        Array.Clear(slots, 0, capacity);
        foreach (int x in small)
        {
            uint key = (uint)x;
            int i = (int)((key * multiplier) >> shift);
            while (true)
            {
                ulong slot = slots[i];
                if (slot == 0) { slots[i] = Occupied | key; break; }
                if ((uint)slot == key) break; // a duplicate in the smaller array
                i = (i + 1) & mask;
            }
        }
        int count = 0;
        foreach (int x in large)
        {
            uint key = (uint)x;
            int i = (int)((key * multiplier) >> shift);
            for (ulong slot; (slot = slots[i]) != 0; i = (i + 1) & mask)
            {
                if ((uint)slot != key) continue;
                if ((slot & Reported) == 0)
                {
                    slots[i] = slot | Reported;
                    hits[count++] = x;
                }
                break;
            }
        }
        return count;
    }

    static int[] HashSetIntersection(int[] small, int[] large)
    {
        var set = new HashSet<int>(small);
        set.IntersectWith(large);
        var result = set.ToArray();
        Array.Sort(result);
        return result;
    }

    /// <summary>
    /// Sorts ascending in linear time: LSD radix sort on 11/11/10-bit digits of the value with its sign bit flipped
    /// (so the unsigned order of the keys is the signed order of the values); digits all equal are skipped.
    /// </summary>
    static void SortAscending(Span<int> values)
    {
        int n = values.Length;
        if (n < RadixSortThreshold) { values.Sort(); return; }
        Span<int> counts = stackalloc int[3 * 2048];
        foreach (int v in values)
        {
            uint key = (uint)v ^ 0x8000_0000;
            counts[(int)(key & 0x7FF)]++;
            counts[2048 + (int)((key >> 11) & 0x7FF)]++;
            counts[4096 + (int)(key >> 22)]++;
        }
        int[] buffer = ArrayPool<int>.Shared.Rent(n);
        try
        {
            Span<int> src = values, dst = buffer.AsSpan(0, n);
            for (int pass = 0; pass < 3; pass++)
            {
                Span<int> digitCounts = counts.Slice(pass * 2048, 2048);
                int shift = pass * 11;
                // A digit shared by every value orders nothing: skip the pass.
                if (digitCounts[(int)((((uint)src[0] ^ 0x8000_0000) >> shift) & 0x7FF)] == n) continue;
                // Counts → start offsets (exclusive prefix sums).
                for (int d = 0, offset = 0; d < 2048; d++)
                {
                    int c = digitCounts[d];
                    digitCounts[d] = offset;
                    offset += c;
                }
                for (int i = 0; i < n; i++)
                {
                    int v = src[i];
                    dst[digitCounts[(int)((((uint)v ^ 0x8000_0000) >> shift) & 0x7FF)]++] = v;
                }
                var swap = src;
                src = dst;
                dst = swap;
            }
            // After an odd number of passes the sorted values sit in the buffer.
            if (!Unsafe.AreSame(ref src[0], ref values[0])) src.CopyTo(values);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(buffer);
        }
    }
}
