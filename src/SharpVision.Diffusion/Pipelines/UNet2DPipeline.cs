using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// Sampling a pixel-space <see cref="UNet2DModel"/> with any scheduler of the contract (DDIM, DDPM, PNDM, Euler, Heun,
/// DPM-Solver, UniPC, DEIS, ...): noise from a seeded generator scaled by the scheduler's init_noise_sigma, then the
/// shared <see cref="DenoisingLoop"/> with class labels and classifier-free guidance (<see cref="ClassifierFreeGuidance"/>).
/// Follows diffusers' <c>DDPMPipeline</c>/<c>DDIMPipeline</c> <c>__call__</c>, which differ only in the scheduler they hold.
/// </summary>
/// <remarks>
/// A model evaluation is one UNet call per loop entry: Heun and KDPM2 visit 2N − 1 entries for N steps
/// (<see cref="ModelCalls"/>). The model is run in eval mode (its previous mode is restored afterwards).
/// </remarks>
public sealed class UNet2DPipeline(UNet2DModel unet, IDiffusionScheduler scheduler)
{
    /// <summary>The denoising model.</summary>
    public UNet2DModel Unet { get; } = unet ?? throw new ArgumentNullException(nameof(unet));

    /// <summary>The scheduler; each run sets its timesteps (and a DDIM scheduler's eta from the options).</summary>
    public IDiffusionScheduler Scheduler { get; } = scheduler ?? throw new ArgumentNullException(nameof(scheduler));

    /// <summary>UNet evaluations of a <paramref name="steps"/>-step loop with this scheduler (sets its timesteps).</summary>
    public int ModelCalls(int steps)
    {
        Scheduler.SetTimesteps(steps);
        return Scheduler.Timesteps.Count;
    }

    /// <summary>The largest step count whose loop makes at most <paramref name="calls"/> UNet evaluations (at least 1).</summary>
    public int StepsForModelCalls(int calls)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calls);
        int steps = 1;
        while (steps < calls && ModelCalls(steps + 1) <= calls) steps++;
        return steps;
    }

    /// <summary>Samples a batch from fresh noise.</summary>
    /// <returns>(Count, in_channels, H, W) images in the model's value range (usually [-1, 1]).</returns>
    /// <exception cref="ArgumentException">Labels, guidance or size that do not fit the model.</exception>
    public Tensor Sample(SamplingOptions options, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shape = ClassifierFreeGuidance.SampleShape(Unet, options.Count, options.Height, options.Width);
        using var generator = new Generator((ulong)options.Seed);
        using var scope = torch.NewDisposeScope();
        Scheduler.SetTimesteps(options.Steps);
        if (Scheduler is DDIMScheduler ddim) ddim.Eta = options.Eta;
        var noise = torch.randn(shape, dtype: Unet.Dtype, generator: generator) * Scheduler.InitNoiseSigma;
        var labels = ClassifierFreeGuidance.Labels(Unet, options.ClassLabels, options.Count);
        bool wasTraining = Unet.training;
        Unet.eval();
        try
        {
            return DenoisingLoop.Run(Scheduler, noise, Scheduler.Timesteps,
                step => ClassifierFreeGuidance.Predict(Unet, step.ModelInput, DenoisingLoop.TimestepTensor(step.Timestep, step.ModelInput.device, 1),
                    labels, options.GuidanceScale),
                generator, progress).MoveToOuterDisposeScope();
        }
        finally
        {
            Unet.train(wasTraining);
        }
    }
}
