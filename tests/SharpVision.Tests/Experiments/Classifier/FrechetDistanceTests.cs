using SharpVision.Experiments.Classifier;

namespace SharpVision.Tests.Experiments.Classifier;

public sealed class FrechetDistanceTests
{
    static Tensor RandomSpd(int d, int seed)
    {
        using var g = new Generator((ulong)seed);
        var a = randn([d, d], dtype: ScalarType.Float64, generator: g);
        return a.matmul(a.t()) + 0.1 * eye(d, dtype: ScalarType.Float64);
    }

    [Fact]
    public void IdenticalDistributionsAreAtDistanceZero()
    {
        var mu = tensor(new[] { 0.5, -1.0, 2.0 });
        var s = RandomSpd(3, 1);
        Assert.Equal(0.0, FrechetDistance.Compute(mu, s, mu, s), 9);
        using var g = new Generator(2);
        var x = randn([200, 5], generator: g);
        Assert.Equal(0.0, FrechetDistance.Compute(x, x), 6);
    }

    [Fact]
    public void DiagonalCovariancesMatchTheClosedForm()
    {
        // Commuting covariances: FD = |mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
        double[] a = [1.0, 4.0, 0.25, 9.0], b = [2.0, 1.0, 0.25, 16.0];
        double[] m1 = [0, 1, 2, 3], m2 = [1, 1, 0, 3];
        double expected = m1.Zip(m2, (x, y) => (x - y) * (x - y)).Sum() + a.Zip(b, (x, y) => Math.Pow(Math.Sqrt(x) - Math.Sqrt(y), 2)).Sum();
        double actual = FrechetDistance.Compute(tensor(m1), diag(tensor(a)), tensor(m2), diag(tensor(b)));
        Assert.Equal(expected, actual, 10);
    }

    [Fact]
    public void ScaledCovarianceMatchesTheClosedForm()
    {
        // S2 = c^2 S1 commutes with S1: Tr(S1 + S2 - 2 sqrt(S1 S2)) = (1 - c)^2 Tr(S1).
        var s1 = RandomSpd(6, 3);
        var mu = zeros(6, dtype: ScalarType.Float64);
        double c = 1.7;
        double expected = Math.Pow(1 - c, 2) * s1.trace().item<double>();
        Assert.Equal(expected, FrechetDistance.Compute(mu, s1, mu, c * c * s1), 8);
    }

    [Fact]
    public void SqrtPsdSquaresBackAndIsSymmetric()
    {
        var s = RandomSpd(8, 4);
        var r = FrechetDistance.SqrtPsd(s);
        Assert.True(r.matmul(r).allclose(s, 1e-9, 1e-9));
        Assert.True(r.allclose(r.t(), 0, 1e-12));
        // Rotated diagonal: Q diag(l) Q^T has root Q diag(sqrt l) Q^T.
        var (q, _) = linalg.qr(RandomSpd(4, 5));
        var l = tensor(new[] { 9.0, 4.0, 1.0, 0.0 });
        var expected = q.matmul(diag(l.sqrt())).matmul(q.t());
        Assert.True(FrechetDistance.SqrtPsd(q.matmul(diag(l)).matmul(q.t())).allclose(expected, 1e-7, 1e-7));
    }

    [Fact]
    public void SampleStatisticsMatchTheDefinition()
    {
        var x = tensor(new[,] { { 1.0, 2.0 }, { 3.0, 0.0 }, { 5.0, 4.0 } });
        var (mean, cov) = FrechetDistance.Statistics(x);
        Assert.Equal([3.0, 2.0], mean.data<double>().ToArray());
        Assert.Equal([4.0, 2.0, 2.0, 4.0], cov.data<double>().ToArray());
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(zeros(5, 3), zeros(5, 4)));
        Assert.Contains("(5, 4)", e.Message);
        var one = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(zeros(1, 3), zeros(5, 3)));
        Assert.Contains("N >= 2", one.Message);
    }
}
