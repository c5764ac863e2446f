using CsCheck;
using SharpVision.Diffusion.Quantization;

namespace SharpVision.Tests.Quantization;

public sealed class CodebookSearchTests
{
    /// <summary>Brute force: the whole (N × K) distance matrix by torch.cdist, then argmin.</summary>
    static Tensor BruteForce(Tensor flat, Tensor codebook) => torch.cdist(flat, codebook).argmin(1);

    [Fact]
    public void Chunked_search_equals_cdist_argmin_on_random_sizes()
    {
        // float64, so rounding cannot turn a near-tie the other way between the two formulas. The cases are
        // drawn once from a pinned seed (Check.Single), so every run checks the same 60 sizes.
        var cases = Gen.Select(Gen.Int[1, 300], Gen.Int[1, 40], Gen.Int[1, 12], Gen.Int[1, 64], Gen.ULong)
            .Array[60].Single(_ => true, "dnJMHcce28t2");
        foreach (var (n, k, d, chunk, seed) in cases)
        {
            using var scope = torch.NewDisposeScope();
            var g = new Generator(seed);
            var flat = randn([n, d], dtype: ScalarType.Float64, generator: g);
            var codebook = randn([k, d], dtype: ScalarType.Float64, generator: g);
            var chunked = CodebookSearch.Nearest(flat, codebook, chunk);
            Assert.Equal([(long)n], chunked.shape);
            Assert.True(chunked.eq(BruteForce(flat, codebook)).all().item<bool>(), $"n={n} k={k} d={d} chunk={chunk} seed={seed}");
        }
    }

    [Fact]
    public void Float32_search_picks_a_code_at_the_minimum_distance()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(7);
        var flat = randn([5000, 16], generator: g);
        var codebook = randn([300, 16], generator: g);
        var idx = CodebookSearch.Nearest(flat, codebook, chunkSize: 777);
        var d = torch.cdist(flat.to(ScalarType.Float64), codebook.to(ScalarType.Float64)).pow(2); // (N, K)
        var chosen = d.gather(1, idx.unsqueeze(1)).squeeze(1);
        var best = d.min(1).values;
        // Only near-ties (float32 rounding of ||z||² − 2z·e + ||e||²) may pick another code.
        Assert.True((chosen - best).le(1e-4 * (1 + best)).all().item<bool>());
        Assert.True(idx.eq(d.argmin(1)).to(ScalarType.Float64).mean().item<double>() > 0.999);
    }

    [Fact]
    public void Ties_go_to_the_first_code_and_the_search_is_not_differentiated()
    {
        using var scope = torch.NewDisposeScope();
        var codebook = tensor(new float[] { 1, 0, 1, 0, -1, 0 }).view(3, 2).requires_grad_(true); // codes 0 and 1 equal
        var flat = tensor(new float[] { 2, 0, -3, 0 }).view(2, 2).requires_grad_(true);
        var idx = CodebookSearch.Nearest(flat, codebook);
        Assert.Equal(new long[] { 0, 2 }, idx.data<long>().ToArray());
        Assert.False(idx.requires_grad);
    }

    [Fact]
    public void Mismatched_widths_are_rejected_naming_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => CodebookSearch.Nearest(zeros(4, 3), zeros(8, 2)));
        Assert.Contains("(4, 3)", ex.Message);
        Assert.Contains("(8, 2)", ex.Message);
        var empty = Assert.Throws<ArgumentException>(() => CodebookSearch.Nearest(zeros(4, 2), zeros(0, 2)));
        Assert.Contains("at least one code", empty.Message);
    }
}
