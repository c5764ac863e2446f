using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Training;
using TorchSharp;

namespace SharpVision.Tests.Training;

public sealed class LatentDiffusionTests
{
    [Fact]
    public void TrainsOnScaledLatentsAndSamplesDecodedImagesReproducibly()
    {
        torch.manual_seed(0);
        using var vq = new VQModel(VQVAETrainerTests.Tiny);
        var images = VQVAETrainerTests.SmallImages(0, 8);
        using var ldm = new LatentDiffusion(vq, LatentDiffusion.UNetConfig(3, 8, width: 8), images, new LatentDiffusionOptions(BatchSize: 4));
        Assert.Equal([3L, 8, 8], ldm.LatentShape);
        Assert.True(ldm.LatentScale > 0 && double.IsFinite(ldm.LatentScale));
        Assert.All(vq.parameters(), p => Assert.False(p.requires_grad));

        var losses = new List<double>();
        ldm.Train(3, (_, loss) => losses.Add(loss));
        Assert.Equal(3, losses.Count);
        Assert.All(losses, l => Assert.True(double.IsFinite(l) && l > 0));

        using var a = ldm.Sample(2, steps: 3, seed: 5);
        using var b = ldm.Sample(2, steps: 3, seed: 5);
        Assert.Equal([2L, 1, 16, 16], a.shape);
        Assert.True(a.eq(b).all().item<bool>(), "same seed, different samples");
    }

    [Fact]
    public void AUNetOfOtherChannelsIsRejected()
    {
        using var vq = new VQModel(VQVAETrainerTests.Tiny);
        var e = Assert.Throws<ArgumentException>(() =>
            new LatentDiffusion(vq, LatentDiffusion.UNetConfig(4, 8, width: 8), VQVAETrainerTests.SmallImages(0, 4), new LatentDiffusionOptions(BatchSize: 4)));
        Assert.Contains("3 latent channels", e.Message);
    }
}
