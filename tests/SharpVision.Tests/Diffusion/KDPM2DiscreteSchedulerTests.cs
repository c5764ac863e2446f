using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class KDPM2DiscreteSchedulerTests
{
    static KDPM2DiscreteSchedulerConfig Sd => new() { BetaSchedule = BetaSchedule.ScaledLinear };

    static Tensor Randn(ulong seed) => randn([1, 2, 3, 3], generator: new Generator(seed));

    [Fact]
    public void MidpointTimesteps_LieBetweenTheirNeighbours()
    {
        var s = new KDPM2DiscreteScheduler(Sd);
        s.SetTimesteps(6);
        Assert.Equal(11, s.Timesteps.Count);
        for (int i = 1; i < s.Timesteps.Count; i += 2)
            Assert.InRange(s.Timesteps[i], s.Timesteps[i + 1], s.Timesteps[i - 1]);
    }

    [Fact]
    public void SecondStage_ScalesByTheGeometricMidpointSigma()
    {
        var s = new KDPM2DiscreteScheduler(Sd);
        s.SetTimesteps(6);
        var x = Randn(1) * s.InitNoiseSigma;
        var mid = s.Step(Randn(2), s.Timesteps[0], x).PrevSample;
        Assert.False(s.StateInFirstOrder);
        double sigmaMid = Math.Sqrt(s.Sigmas![0] * s.Sigmas[1]);
        var scaled = s.ScaleModelInput(mid, s.Timesteps[1]);
        Assert.True(scaled.allclose(mid / Math.Sqrt(sigmaMid * sigmaMid + 1), rtol: 1e-5, atol: 1e-6));
        s.Step(Randn(3), s.Timesteps[1], mid);
        Assert.True(s.StateInFirstOrder);
    }

    [Fact]
    public void ConstantNoisePrediction_TheFullStepIsTheEulerStep()
    {
        // d_mid = eps as well, so x_{i+1} = x_i + (sigma_{i+1} - sigma_i) eps.
        var s = new KDPM2DiscreteScheduler(Sd);
        s.SetTimesteps(6);
        var x = Randn(1) * s.InitNoiseSigma;
        var eps = Randn(2);
        var mid = s.Step(eps, s.Timesteps[0], x).PrevSample;
        var next = s.Step(eps, s.Timesteps[1], mid).PrevSample;
        Assert.True(next.allclose(x + (float)(s.Sigmas![1] - s.Sigmas[0]) * eps, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void KarrasTimesteps_AreRounded()
    {
        var s = new KDPM2DiscreteScheduler(Sd with { UseKarrasSigmas = true });
        s.SetTimesteps(7);
        for (int i = 0; i < s.Timesteps.Count; i += 2) Assert.Equal(Math.Round(s.Timesteps[i]), s.Timesteps[i]);
        Assert.Contains(s.Timesteps.Where((_, i) => i % 2 == 1), t => t != Math.Round(t));
    }
}
