using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class SigmaScheduleTests
{
    static double[] Ramp(int n) => SigmaSchedule.Linspace(0, 1, n);

    [Fact]
    public void Beta_OfTheArcsineDistribution_MatchesItsClosedForm()
    {
        // Beta(1/2, 1/2) has F^-1(q) = sin^2(pi q / 2).
        var levels = SigmaSchedule.Beta(0, 1, 11, 0.5, 0.5);
        var ramp = Ramp(11);
        for (int i = 0; i < 11; i++)
            Assert.Equal(Math.Pow(Math.Sin(Math.PI * (1 - ramp[i]) / 2), 2), levels[i], 12);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Beta_OfPowerDistributions_MatchesTheirClosedForm(double alpha)
    {
        // Beta(a, 1) has F(x) = x^a, so F^-1(q) = q^(1/a); the levels then map [0, 1] onto [sigma_min, sigma_max].
        var levels = SigmaSchedule.Beta(0.5, 4.5, 9, alpha, 1.0);
        var ramp = Ramp(9);
        for (int i = 0; i < 9; i++)
            Assert.Equal(0.5 + 4 * Math.Pow(1 - ramp[i], 1 / alpha), levels[i], 11);
    }

    [Fact]
    public void Beta_WithEqualShapes_IsSymmetricAndSpansTheRange()
    {
        var levels = SigmaSchedule.Beta(0.03, 14.6, 15);
        Assert.Equal(14.6, levels[0], 12);
        Assert.Equal(0.03, levels[^1], 12);
        for (int i = 0; i < 15; i++) Assert.Equal(14.6 + 0.03, levels[i] + levels[14 - i], 10);
        for (int i = 1; i < 15; i++) Assert.True(levels[i] < levels[i - 1]);
    }
}
