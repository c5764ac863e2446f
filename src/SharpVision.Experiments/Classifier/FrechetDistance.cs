using SharpVision.Nn;

namespace SharpVision.Experiments.Classifier;

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (Dowson and Landau 1982; used as FID by Heusel et al.
/// 2017, https://arxiv.org/abs/1706.08500): <c>|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^(1/2) S2 S1^(1/2))^(1/2))</c>.
/// </summary>
/// <remarks>
/// Computed in float64. The matrix square roots come from symmetric eigen-decompositions (<c>torch.linalg.eigh</c>):
/// S1^(1/2) = V diag(sqrt(max(l, 0))) V^T, and Tr((S1^(1/2) S2 S1^(1/2))^(1/2)) is the sum of the square roots of that
/// symmetric positive semi-definite matrix's eigenvalues. This equals Tr((S1 S2)^(1/2)) of pytorch-fid's
/// <c>scipy.linalg.sqrtm</c> form without its complex round-off. Tiny negative eigenvalues from round-off are clamped to 0.
/// </remarks>
public static class FrechetDistance
{
    /// <summary>The distance between two feature sets, each fitted with its mean and unbiased covariance (N − 1).</summary>
    /// <param name="a">(N, D) features, N ≥ 2.</param>
    /// <param name="b">(M, D) features, M ≥ 2.</param>
    /// <exception cref="ArgumentException">Not (N, D) matrices of the same D, or fewer than two rows.</exception>
    public static double Compute(Tensor a, Tensor b)
    {
        RequireFeatures(a, nameof(a));
        RequireFeatures(b, nameof(b));
        if (a.shape[1] != b.shape[1])
            throw new ArgumentException($"b must be (M, {a.shape[1]}) like a; got {Shapes.Format(b)}", nameof(b));
        using var scope = torch.NewDisposeScope();
        var (mu1, s1) = Statistics(a);
        var (mu2, s2) = Statistics(b);
        return Compute(mu1, s1, mu2, s2);
    }

    /// <summary>The distance between N(mu1, s1) and N(mu2, s2).</summary>
    /// <param name="mu1">(D) mean.</param>
    /// <param name="sigma1">(D, D) symmetric positive semi-definite covariance.</param>
    /// <param name="mu2">(D) mean.</param>
    /// <param name="sigma2">(D, D) covariance.</param>
    /// <exception cref="ArgumentException">Shapes that do not agree.</exception>
    public static double Compute(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2)
    {
        Shapes.RequireRank(mu1, 1, "(D)", nameof(mu1));
        long d = mu1.shape[0];
        if (!mu2.shape.SequenceEqual(mu1.shape)) throw new ArgumentException($"mu2 must be ({d}); got {Shapes.Format(mu2)}", nameof(mu2));
        if (!sigma1.shape.SequenceEqual(new[] { d, d })) throw new ArgumentException($"sigma1 must be ({d}, {d}); got {Shapes.Format(sigma1)}", nameof(sigma1));
        if (!sigma2.shape.SequenceEqual(new[] { d, d })) throw new ArgumentException($"sigma2 must be ({d}, {d}); got {Shapes.Format(sigma2)}", nameof(sigma2));
        using var scope = torch.NewDisposeScope();
        var m1 = mu1.to(ScalarType.Float64);
        var m2 = mu2.to(ScalarType.Float64);
        var s1 = sigma1.to(ScalarType.Float64);
        var s2 = sigma2.to(ScalarType.Float64);
        var root1 = SqrtPsd(s1); // S1^(1/2)
        var inner = root1.matmul(s2).matmul(root1); // (D, D), symmetric PSD
        double traceRoot = TraceSqrtPsd(inner);
        double meanTerm = (m1 - m2).square().sum().item<double>();
        return meanTerm + s1.trace().item<double>() + s2.trace().item<double>() - 2 * traceRoot;
    }

    /// <summary>Mean and unbiased covariance (divisor N − 1) of feature rows, in float64.</summary>
    /// <param name="features">(N, D).</param>
    /// <returns>((D), (D, D)).</returns>
    public static (Tensor Mean, Tensor Covariance) Statistics(Tensor features)
    {
        RequireFeatures(features, nameof(features));
        using var scope = torch.NewDisposeScope();
        var x = features.to(ScalarType.Float64);
        var mean = x.mean([0]); // (D)
        var centred = x - mean; // (N, D)
        var cov = centred.t().matmul(centred) / (x.shape[0] - 1); // (D, D)
        return (mean.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope());
    }

    /// <summary>The symmetric square root of a symmetric positive semi-definite matrix (float64).</summary>
    /// <param name="matrix">(D, D) symmetric PSD; symmetrised first, eigenvalues below 0 (round-off) treated as 0.</param>
    /// <returns>(D, D) R with R R = matrix and R = R^T.</returns>
    public static Tensor SqrtPsd(Tensor matrix)
    {
        RequireSquare(matrix, nameof(matrix));
        using var scope = torch.NewDisposeScope();
        var m = matrix.to(ScalarType.Float64);
        m = (m + m.t()) / 2;
        var (values, vectors) = torch.linalg.eigh(m); // (D), (D, D) columns are eigenvectors
        var root = vectors.matmul(torch.diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
        return root.MoveToOuterDisposeScope();
    }

    /// <summary>Tr(matrix^(1/2)) of a symmetric PSD matrix: the sum of the square roots of its eigenvalues.</summary>
    public static double TraceSqrtPsd(Tensor matrix)
    {
        RequireSquare(matrix, nameof(matrix));
        using var scope = torch.NewDisposeScope();
        var m = matrix.to(ScalarType.Float64);
        m = (m + m.t()) / 2;
        return torch.linalg.eigvalsh(m).clamp_min(0).sqrt().sum().item<double>();
    }

    static void RequireFeatures(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        Shapes.RequireRank(t, 2, "(N, D)", name);
        if (t.shape[0] < 2) throw new ArgumentException($"{name} must be (N, D) with N >= 2 to have a covariance; got {Shapes.Format(t)}", name);
    }

    static void RequireSquare(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.dim() != 2 || t.shape[0] != t.shape[1]) throw new ArgumentException($"{name} must be (D, D); got {Shapes.Format(t)}", name);
    }
}
