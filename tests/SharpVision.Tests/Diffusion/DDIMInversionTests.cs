using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using static SharpVision.Tests.Diffusion.TinyDiffusion;

namespace SharpVision.Tests.Diffusion;

public sealed class DDIMInversionTests
{
    static DDIMInversion Inversion(SharpVision.Diffusion.Models.UNet2DModel unet) =>
        new(unet, new DDIMInverseScheduler(new DDIMInverseSchedulerConfig { NumTrainTimesteps = 50, ClipSample = false }),
            new DDIMScheduler(Ddim(clip: false)));

    [Fact]
    public void AModelPredictingZeroNoiseScalesByTheSignalRateAndRoundTripsExactly()
    {
        // With epsilon = 0 every DDIM step is x_t = sqrt(alpha_bar_t) x_0 in both directions: an exact oracle.
        using var unet = Model();
        using (no_grad()) { unet.conv_out.weight!.zero_(); unet.conv_out.bias!.zero_(); }
        var inversion = Inversion(unet);
        torch.manual_seed(3);
        var images = rand(2, 1, 8, 8) * 2 - 1;
        var result = inversion.RoundTrip(images, 10);
        long last = inversion.InverseScheduler.Timesteps[^1];
        float alphaBar = inversion.Scheduler.AlphasCumprod[last].item<float>();
        Assert.True(result.Latents.allclose(images * MathF.Sqrt(alphaBar), 1e-5, 1e-6));
        Assert.True(result.Reconstruction.allclose(images, 1e-4, 1e-5));
        Assert.True(result.MaxAbsError < 1e-4);
        Assert.Equal(2, result.RmsError.Length);
    }

    [Fact]
    public void RandomModelRoundTripReportsAConsistentError()
    {
        using var unet = Model();
        var inversion = Inversion(unet);
        torch.manual_seed(4);
        var images = rand(3, 1, 8, 8) * 2 - 1;
        var result = inversion.RoundTrip(images, 25);
        Assert.Equal(images.shape, result.Latents.shape);
        double rms = (result.Reconstruction - images).square().mean().sqrt().item<float>();
        Assert.Equal(rms, result.MeanRmsError, 4);
        Assert.True(result.MaxAbsError >= result.RmsError.Max());
        // Inversion then DDIM with the same steps recovers the image far better than unrelated noise would.
        Assert.True(result.MeanRmsError < 0.5, $"round-trip RMS {result.MeanRmsError}");
    }

    [Fact]
    public void InversionKeepsTheLiveTensorCountFlat()
    {
        using var unet = Model();
        var inversion = Inversion(unet);
        var counts = new List<long>();
        using var outer = NewDisposeScope();
        var images = zeros(1, 1, 8, 8);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        _ = inversion.Invert(images, 40, progress: p => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        Assert.Equal(40, counts.Count);
        Assert.All(counts, c => Assert.Equal(counts[0], c));
        Assert.Equal(before + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void FromSchedulerConfigTurnsClippingOffInBothDirectionsAndKeepsTheRest()
    {
        var dir = Directory.CreateTempSubdirectory("sv-inv-").FullName;
        try
        {
            var path = Path.Combine(dir, "scheduler_config.json");
            new DDPMSchedulerConfig { NumTrainTimesteps = 50, ClipSample = true, BetaEnd = 0.03 }.Save(path);
            using var unet = Model();
            var inversion = DDIMInversion.FromSchedulerConfig(unet, dir);
            Assert.False(inversion.Scheduler.Config.ClipSample);
            Assert.False(inversion.Scheduler.Config.Thresholding);
            Assert.False(inversion.InverseScheduler.Config.ClipSample);
            Assert.Equal(50, inversion.Scheduler.Config.NumTrainTimesteps);
            Assert.Equal(0.03, inversion.InverseScheduler.Config.BetaEnd);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
