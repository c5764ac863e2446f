using SharpVision.Diffusion.Models;
using SharpVision.Tests.Diffusion;

namespace SharpVision.Tests.Cli;

/// <summary>A temp folder with a tiny saved UNet (32×32, optionally class-conditional) and a T = 50 scheduler folder.</summary>
sealed class DiffusionCliFixture : IDisposable
{
    public string Root { get; } = TinyDiffusion.TempDir("sv-diffcli-");
    public string Model => Path.Combine(Root, "model");
    public string Scheduler => Path.Combine(Root, "scheduler");

    public DiffusionCliFixture(int? numClassEmbeds = null)
    {
        torch.manual_seed(2);
        using var unet = new UNet2DModel(TinyDiffusion.Config(numClassEmbeds, sampleSize: 32));
        unet.SavePretrained(Model);
        Directory.CreateDirectory(Scheduler);
        TinyDiffusion.Ddim().Save(Path.Combine(Scheduler, "scheduler_config.json"));
    }

    public string PathOf(string name) => Path.Combine(Root, name);

    public static (int Code, string Out, string Err) Run(params string[] args) => InProcessCli.Run(args);

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
