using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

/// <summary>
/// Kind <c>ddim_loop</c>: diffusers' deterministic DDIM sampling loop (UNet2DModel + DDIMScheduler) from the stored
/// initial noise. Steps go to diffusers' previous timestep (<c>t - T // N</c>), as the reference pipeline does.
/// </summary>
public sealed class DdimLoopParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["ddim_loop"];

    public void Run(ParityCase c, Precision p)
    {
        using var unet = UNet2DModel.FromPretrained(c.PathOf(c.String("unet_dir")!), p.Dtype);
        var scheduler = DDIMScheduler.FromConfigFile(Path.Combine(c.PathOf(c.String("scheduler_dir")!), "scheduler_config.json"));
        scheduler.SetTimesteps((int)c.Long("num_inference_steps")!.Value);
        double eta = c.Double("eta") ?? 0.0;

        using var noGrad = torch.no_grad();
        var sample = c.Input("initial_noise", p) * scheduler.InitNoiseSigma;
        foreach (long t in scheduler.Timesteps)
        {
            using var scope = torch.NewDisposeScope();
            var noise = unet.forward(scheduler.ScaleModelInput(sample, t), t);
            sample = scheduler.Step(noise, t, sample, eta, prevTimestep: scheduler.ReferencePreviousTimestep(t)).PrevSample.MoveToOuterDisposeScope();
        }
        c.Expect("expected_sample", sample, p);
    }
}
