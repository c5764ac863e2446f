using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

public sealed class KDPM2AncestralDiscreteSchedulerTests
{
    static KDPM2AncestralDiscreteSchedulerConfig Sd => new() { BetaSchedule = BetaSchedule.ScaledLinear };

    static Tensor Randn(ulong seed) => randn([1, 2, 3, 3], generator: new Generator(seed));

    [Fact]
    public void Defaults_AreDiffusers()
    {
        var c = new KDPM2AncestralDiscreteSchedulerConfig();
        Assert.Equal(("KDPM2AncestralDiscreteScheduler", 0.00085, 0.012, TimestepSpacing.Linspace, 0), (c.ClassName, c.BetaStart, c.BetaEnd, c.TimestepSpacing, c.StepsOffset));
    }

    [Fact]
    public void OnlyTheSecondStage_UsesTheNoise()
    {
        var s = new KDPM2AncestralDiscreteScheduler(Sd);
        var x = Randn(1) * 14;
        (Tensor Mid, Tensor Next) Run(ulong noiseSeed)
        {
            s.SetTimesteps(5);
            var mid = s.Step(Randn(2), s.Timesteps[0], x, Randn(noiseSeed)).PrevSample;
            return (mid, s.Step(Randn(3), s.Timesteps[1], mid, Randn(noiseSeed + 1)).PrevSample);
        }
        var (midA, nextA) = Run(10);
        var (midB, nextB) = Run(20);
        Assert.True(midA.allclose(midB), "the first stage is deterministic");
        Assert.False(nextA.allclose(nextB), "the second stage adds sigma_up * z");
    }

    [Fact]
    public void AncestralSplit_KeepsTheTargetVariance()
    {
        // sigma_down^2 + sigma_up^2 = sigma_{i+1}^2: the second stage's noise, with a zero model output, has std sigma_up.
        var s = new KDPM2AncestralDiscreteScheduler(Sd);
        s.SetTimesteps(5);
        var x = zeros(1, 2, 3, 3);
        var mid = s.Step(zeros_like(x), s.Timesteps[0], x).PrevSample;
        var z = Randn(4);
        var next = s.Step(zeros_like(x), s.Timesteps[1], mid, z).PrevSample;
        double from = s.Sigmas![0], to = s.Sigmas[1];
        double up = Math.Sqrt(to * to * (from * from - to * to) / (from * from));
        Assert.True(next.allclose(z * (float)up, rtol: 1e-5, atol: 1e-6));
    }
}
