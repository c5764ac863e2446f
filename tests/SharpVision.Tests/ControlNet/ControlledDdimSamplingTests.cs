using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using static SharpVision.Tests.ControlNet.ControlNetTestModels;

namespace SharpVision.Tests.ControlNet;

public sealed class ControlledDdimSamplingTests
{
    static DDIMScheduler Scheduler(int steps)
    {
        var s = new DDIMScheduler();
        s.SetTimesteps(steps);
        return s;
    }

    [Fact]
    public void FreshOrScheduledOffControlNetsLeaveSamplingUnchanged()
    {
        torch.manual_seed(31);
        using var unet = new UNet2DModel(TinyUNet());
        Perturb(unet);
        unet.eval();
        using var fresh = UNet2DControlNet.FromUNet(unet, CondStages);
        using var trained = UNet2DControlNet.FromUNet(unet, CondStages);
        Perturb(trained);
        trained.eval();
        var noise = randn(2, 1, 8, 8);
        var cond = rand(2, 3, 16, 16);

        var plain = ControlledDdimSampling.Sample(unet, Scheduler(3), noise, []);
        Assert.True(BitEqual(plain, ControlledDdimSampling.Sample(unet, Scheduler(3), noise, [new UNet2DControl(fresh, cond, 1.0)])));
        // window [0.3, 0.5] holds none of 3 steps (keep list 000): the trained net never applies
        var off = new UNet2DControl(trained, cond, 1.0, new ControlSchedule(0.3, 0.5));
        Assert.True(BitEqual(plain, ControlledDdimSampling.Sample(unet, Scheduler(3), noise, [off])));
        var on = ControlledDdimSampling.Sample(unet, Scheduler(3), noise, [new UNet2DControl(trained, cond, 1.0)]);
        Assert.False(on.allclose(plain, 1e-5, 1e-5));
        // only the last step under control differs from only the first
        var late = ControlledDdimSampling.Sample(unet, Scheduler(3), noise, [new UNet2DControl(trained, cond, 1.0, new ControlSchedule(0.6, 1.0))]);
        var early = ControlledDdimSampling.Sample(unet, Scheduler(3), noise, [new UNet2DControl(trained, cond, 1.0, new ControlSchedule(0.0, 0.4))]);
        Assert.False(late.allclose(early, 1e-5, 1e-5));
        Assert.False(late.allclose(plain, 1e-5, 1e-5));
    }

    [Fact]
    public void ControlNetForAnotherUNetIsRejected()
    {
        using var unet = new UNet2DModel(TinyUNet());
        using var other = UNet2DControlNet.FromUNet(new UNet2DModel(TinyUNet(c => c with { InChannels = 2 })), CondStages);
        var e = Assert.Throws<ArgumentException>(() =>
            ControlledDdimSampling.Sample(unet, Scheduler(2), randn(1, 1, 8, 8), [new UNet2DControl(other, rand(1, 3, 16, 16))]));
        Assert.Contains("controls[0]", e.Message);
        Assert.Contains("in_channels 2", e.Message);
        Assert.Contains("UNet's 1", e.Message);
    }
}
