using SharpVision.Nn;

namespace SharpVision.Diffusion.Quantization;

/// <summary>
/// Nearest-code search without the full (N × K) distance matrix: rows are searched in chunks, so the
/// largest temporary is ChunkSize × K instead of N × K (65,536 × 1,024 float32 = 256 MiB; chunks of 8,192 = 32 MiB).
/// </summary>
public static class CodebookSearch
{
    /// <summary>Rows per chunk unless told otherwise.</summary>
    public const int DefaultChunkSize = 8192;

    /// <summary>Index of the nearest code (squared Euclidean distance, first on ties) of each row.</summary>
    /// <param name="flat">(N, D) vectors.</param>
    /// <param name="codebook">(K, D) codes.</param>
    /// <param name="chunkSize">Rows searched at a time.</param>
    /// <returns>(N) int64 indices into the codebook; never part of the autograd graph.</returns>
    /// <exception cref="ArgumentException">Ranks or widths disagree.</exception>
    public static Tensor Nearest(Tensor flat, Tensor codebook, int chunkSize = DefaultChunkSize)
    {
        Shapes.RequireRank(flat, 2, "(N, D)", nameof(flat));
        Shapes.RequireRank(codebook, 2, "(K, D)", nameof(codebook));
        if (flat.shape[1] != codebook.shape[1])
            throw new ArgumentException($"flat must be (N, {codebook.shape[1]}) to match codebook {Shapes.Format(codebook)}; got {Shapes.Format(flat)}", nameof(flat));
        if (codebook.shape[0] < 1)
            throw new ArgumentException($"codebook must have at least one code; got {Shapes.Format(codebook)}", nameof(codebook));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        // ||z − e||² = ||z||² − 2 z·e + ||e||². ||z||² is the same for every code of a row, so it cannot change the
        // row's argmin and is left out (adding it could only merge near-equal distances by rounding). The −2 is
        // folded into the codebook (exact: a power of two), so a chunk costs one matmul and one in-place add.
        var e = codebook.detach();
        var eNorm = e.pow(2).sum(1);                 // (K)  ||e||²
        var minusTwoET = e.t().mul(-2).contiguous();  // (D, K)  −2eᵀ
        long n = flat.shape[0];
        var result = torch.empty(n, dtype: ScalarType.Int64, device: flat.device);
        for (long start = 0; start < n; start += chunkSize)
        {
            using var chunkScope = torch.NewDisposeScope();
            long length = Math.Min(chunkSize, n - start);
            var z = flat.detach().narrow(0, start, length);   // (n_c, D)
            var d = z.mm(minusTwoET).add_(eNorm);             // (n_c, K)  ||e||² − 2 z·e
            // min(dim) gives the first minimum's index, as argmin does; on CPU libtorch it measured about 3× faster
            // than argmin on an 8,192 × 1,024 block.
            result.narrow(0, start, length).copy_(d.min(1).indexes);
        }
        return result.MoveToOuterDisposeScope();
    }
}
