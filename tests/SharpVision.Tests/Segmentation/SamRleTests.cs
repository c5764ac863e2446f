using CsCheck;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Testing;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class SamRleTests
{
    /// <summary>Masks of 1–12 rows and columns, sparse to dense, with runs as the generator sees them.</summary>
    static readonly Gen<(int H, int W, bool[] Mask)> Masks =
        from h in Gen.Int[1, 12]
        from w in Gen.Int[1, 12]
        from density in Gen.Double[0, 1]
        from bits in Gen.Double[0, 1].Array[h * w]
        select (h, w, bits.Select(b => b < density).ToArray());

    [Fact]
    public void Runs_are_column_major_and_start_with_zeros()
    {
        // 2x3, row-major: [1 0 0; 1 1 0]; column-major pixels 1 1 0 1 0 0
        var rle = SamRle.FromMask([true, false, false, true, true, false], 2, 3);
        Assert.Equal([0, 2, 1, 1, 2], rle.Counts);
        Assert.Equal(3, rle.Area);
        Assert.Equal([4], SamRle.FromMask(new bool[4], 2, 2).Counts);
    }

    [Fact]
    public void Masks_round_trip_through_runs_and_coco_strings() =>
        SeededSample.Run(Masks, m =>
        {
            var rle = SamRle.FromMask(m.Mask, m.H, m.W);
            Assert.Equal(m.Mask, rle.ToMask());
            Assert.Equal(m.Mask.Count(b => b), rle.Area);
            Assert.Equal((long)m.H * m.W, rle.Counts.Sum(c => (long)c));
            Assert.Equal(rle.Counts, SamRle.FromCocoString(rle.ToCocoString(), m.H, m.W).Counts);
        }, seed: 16);

    [Fact]
    public void Batched_tensor_encoding_equals_the_per_mask_encoding() =>
        SeededSample.Run(Masks.Array[1, 4].Where(a => a.All(m => (m.H, m.W) == (a[0].H, a[0].W))), batch =>
        {
            int h = batch[0].H, w = batch[0].W;
            var masks = stack(batch.Select(m => tensor(m.Mask, [h, w])).ToArray());
            var rles = SamRle.FromMasks(masks);
            Assert.Equal(batch.Length, rles.Count);
            for (int i = 0; i < batch.Length; i++)
            {
                Assert.Equal(SamRle.FromMask(batch[i].Mask, h, w).Counts, rles[i].Counts);
                Assert.Equal(batch[i].Mask, rles[i].ToTensor().data<bool>().ToArray());
            }
        }, seed: 17, iterations: 50);

    [Fact]
    public void Runs_that_do_not_fill_the_mask_are_rejected()
    {
        Assert.Contains("sum to 3", Assert.Throws<InvalidDataException>(() => new SamRle(2, 2, [1, 2]).ToMask()).Message);
        Assert.Contains("exceed", Assert.Throws<InvalidDataException>(() => new SamRle(2, 2, [1, 5]).ToMask()).Message);
        Assert.Contains("needs 6", Assert.Throws<InvalidDataException>(() => SamRle.FromCocoString("04", 2, 3)).Message);
        Assert.Contains("(N, H, W)", Assert.Throws<ArgumentException>(() => SamRle.FromMasks(zeros([2, 2], ScalarType.Bool))).Message);
        Assert.Contains("bool", Assert.Throws<ArgumentException>(() => SamRle.FromMasks(zeros([1, 2, 2]))).Message);
    }
}
