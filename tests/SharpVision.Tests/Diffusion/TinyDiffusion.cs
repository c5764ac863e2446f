using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

/// <summary>Tiny seeded models and schedulers for pipeline, CLI and training tests (seconds on a CPU).</summary>
static class TinyDiffusion
{
    /// <summary>Two levels (8 and 16 channels, attention on the second), 1 channel, 8×8 samples.</summary>
    public static UNet2DModelConfig Config(int? numClassEmbeds = null, int sampleSize = 8) => new()
    {
        SampleSize = [sampleSize], InChannels = 1, OutChannels = 1, BlockOutChannels = [8, 16], LayersPerBlock = 1,
        NormNumGroups = 4, AttentionHeadDim = 8, NumClassEmbeds = numClassEmbeds,
        DownBlockTypes = [DownBlockType.DownBlock2D, DownBlockType.AttnDownBlock2D],
        UpBlockTypes = [UpBlockType.AttnUpBlock2D, UpBlockType.UpBlock2D],
    };

    public static UNet2DModel Model(int? numClassEmbeds = null, int seed = 1)
    {
        torch.manual_seed(seed);
        var model = new UNet2DModel(Config(numClassEmbeds));
        model.eval();
        return model;
    }

    /// <summary>A short schedule (T = 50) so full DDPM chains stay fast.</summary>
    public static DDIMSchedulerConfig Ddim(bool clip = true) => new() { NumTrainTimesteps = 50, ClipSample = clip };

    public static DDPMSchedulerConfig Ddpm() => new() { NumTrainTimesteps = 50 };

    public static bool Same(torch.Tensor a, torch.Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static string TempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
