using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class LMSDiscreteSchedulerTests
{
    static LMSDiscreteSchedulerConfig Sd => new() { BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.00085, BetaEnd = 0.012 };

    static Tensor Randn(ulong seed) => randn([1, 2, 3, 3], generator: new Generator(seed));

    static LMSDiscreteScheduler Scheduler(int steps)
    {
        var s = new LMSDiscreteScheduler(Sd);
        s.SetTimesteps(steps);
        return s;
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 5)]
    [InlineData(4, 9)]
    [InlineData(6, 12)]
    public void Coefficients_SumToTheStepSize(int order, int index)
    {
        // The Lagrange basis sums to 1, so the weights of a constant derivative add up to sigma_{i+1} - sigma_i.
        var s = Scheduler(15);
        double sum = Enumerable.Range(0, order).Sum(j => s.LmsCoefficient(order, index, j));
        Assert.Equal(s.Sigmas![index + 1] - s.Sigmas[index], sum, 12);
    }

    [Fact]
    public void Coefficients_IntegrateTheLagrangeBasisExactly()
    {
        var s = Scheduler(15);
        const int order = 4, index = 7;
        var sigma = s.Sigmas!;
        for (int j = 0; j < order; j++)
        {
            double Basis(double tau)
            {
                double prod = 1;
                for (int k = 0; k < order; k++)
                    if (k != j) prod *= (tau - sigma[index - k]) / (sigma[index - j] - sigma[index - k]);
                return prod;
            }
            // Simpson's rule is exact for cubics: one panel suffices.
            double a = sigma[index], b = sigma[index + 1];
            double simpson = (b - a) / 6 * (Basis(a) + 4 * Basis((a + b) / 2) + Basis(b));
            Assert.Equal(simpson, s.LmsCoefficient(order, index, j), 12);
        }
    }

    [Fact]
    public void FirstStep_IsAnEulerStep()
    {
        var s = Scheduler(10);
        var x = Randn(1) * s.InitNoiseSigma;
        var eps = Randn(2);
        var prev = s.Step(eps, s.Timesteps[0], x).PrevSample;
        // One derivative so far: x + (sigma_1 - sigma_0) d_0 with d_0 = eps.
        Assert.True(prev.allclose(x + (float)(s.Sigmas![1] - s.Sigmas[0]) * eps, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void CoefficientOutsideTheHistory_IsRejected()
    {
        var s = Scheduler(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.LmsCoefficient(4, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.LmsCoefficient(2, 5, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.LmsCoefficient(1, 10, 0));
        var x = Randn(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(x, s.Timesteps[0], x, order: 0));
    }

    [Fact]
    public void SetTimesteps_ClearsTheDerivativeHistory()
    {
        var s = Scheduler(10);
        var x = Randn(1) * s.InitNoiseSigma;
        var first = s.Step(Randn(2), s.Timesteps[0], x).PrevSample;
        s.Step(Randn(3), s.Timesteps[1], first);
        s.SetTimesteps(10);
        Assert.True(first.allclose(s.Step(Randn(2), s.Timesteps[0], x).PrevSample));
    }
}
