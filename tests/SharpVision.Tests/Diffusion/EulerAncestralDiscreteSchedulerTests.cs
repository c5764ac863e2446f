using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class EulerAncestralDiscreteSchedulerTests
{
    static EulerAncestralDiscreteSchedulerConfig Sd => new() { BetaSchedule = BetaSchedule.ScaledLinear, BetaStart = 0.00085, BetaEnd = 0.012 };

    static Tensor Randn(ulong seed) => randn([1, 2, 3, 3], generator: new Generator(seed));

    [Fact]
    public void NoiseAndGenerator_Together_AreRejected()
    {
        var s = new EulerAncestralDiscreteScheduler(Sd);
        s.SetTimesteps(4);
        var x = Randn(1);
        var e = Assert.Throws<ArgumentException>(() => s.Step(x, s.Timesteps[0], x, Randn(2), new Generator(3)));
        Assert.Contains("either noise or generator", e.Message);
        var shape = Assert.Throws<ArgumentException>(() => s.Step(x, s.Timesteps[0], x, randn(1, 2, 3, 4)));
        Assert.Equal("noise", shape.ParamName);
    }

    [Fact]
    public void DrawnNoise_IsReproducibleFromTheGenerator_AndMatchesPassingItsDraw()
    {
        var s = new EulerAncestralDiscreteScheduler(Sd);
        var x = Randn(1) * 14;
        var eps = Randn(2);
        Tensor StepWith(Tensor? noise, Generator? generator)
        {
            s.SetTimesteps(8);
            return s.Step(eps, s.Timesteps[0], x, noise, generator).PrevSample;
        }
        var drawn = StepWith(null, new Generator(42));
        Assert.True(drawn.allclose(StepWith(null, new Generator(42))));
        Assert.True(drawn.allclose(StepWith(randn([1, 2, 3, 3], generator: new Generator(42)), null)));
        Assert.False(drawn.allclose(StepWith(null, new Generator(43))));
    }

    [Fact]
    public void LastStep_ToSigmaZero_AddsNoNoise()
    {
        var s = new EulerAncestralDiscreteScheduler(Sd);
        s.SetTimesteps(3);
        s.SetBeginIndex(2);
        var x = Randn(1);
        var a = s.Step(Randn(2), s.Timesteps[2], x, Randn(3)).PrevSample;
        s.SetTimesteps(3);
        s.SetBeginIndex(2);
        var b = s.Step(Randn(2), s.Timesteps[2], x, Randn(4)).PrevSample;
        Assert.True(a.allclose(b));
        // sigma_up = sigma_down = 0: the step lands on the denoised estimate x - sigma * eps.
        Assert.True(a.allclose(x - (float)s.Sigmas![2] * Randn(2), rtol: 1e-5, atol: 1e-6));
    }
}
