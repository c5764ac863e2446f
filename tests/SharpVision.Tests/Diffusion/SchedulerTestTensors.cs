namespace SharpVision.Tests.Diffusion;

/// <summary>Seeded latents and the v-prediction target the scheduler unit tests share.</summary>
static class SchedulerTestTensors
{
    public static readonly long[] Shape = [1, 4, 8, 8];

    public static Tensor Randn(long seed) => randn(Shape, generator: new Generator((ulong)seed));

    /// <summary>Same shape and bit-for-bit the same values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>
    /// The v a v-prediction model outputs where an epsilon model outputs <paramref name="noise"/> at x_t = <paramref name="sample"/>:
    /// x_0 = (x_t - sqrt(1 - a) eps) / sqrt(a), v = sqrt(a) eps - sqrt(1 - a) x_0 (Salimans and Ho 2022).
    /// </summary>
    public static Tensor VelocityFor(Tensor sample, Tensor noise, float alphaBar)
    {
        using var scope = NewDisposeScope();
        double a = alphaBar;
        var x0 = (sample - Math.Sqrt(1 - a) * noise) / Math.Sqrt(a);
        return (Math.Sqrt(a) * noise - Math.Sqrt(1 - a) * x0).MoveToOuterDisposeScope();
    }

    public static void AssertClose(Tensor expected, Tensor actual, double rtol = 1e-4, double atol = 1e-5) =>
        Assert.True(actual.allclose(expected, rtol, atol), $"max difference {(actual - expected).abs().max().item<float>()}");
}
