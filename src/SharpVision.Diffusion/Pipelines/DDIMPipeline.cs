using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// DDIM sampling (Song et al. 2021, https://arxiv.org/abs/2010.02502) with a <see cref="UNet2DModel"/>: noise from a
/// seeded generator, then <c>Steps</c> scheduler steps of the shared <see cref="DenoisingLoop"/>. Follows diffusers 0.40 <c>pipelines/ddim/pipeline_ddim.py</c>,
/// adding class labels and classifier-free guidance (<see cref="ClassifierFreeGuidance"/>).
/// </summary>
/// <remarks>
/// With eta = 0 the only randomness is the initial noise, so the same seed gives bit-identical images on the same
/// device and libtorch build. Each step runs in its own dispose scope, so memory stays flat however many steps run.
/// The model is run in eval mode (its previous mode is restored afterwards).
/// </remarks>
public sealed class DDIMPipeline(UNet2DModel unet, DDIMScheduler scheduler)
{
    /// <summary>The denoising model.</summary>
    public UNet2DModel Unet { get; } = unet ?? throw new ArgumentNullException(nameof(unet));

    /// <summary>The scheduler; each run calls <see cref="DDIMScheduler.SetTimesteps"/> and sets its <see cref="DDIMScheduler.Eta"/>.</summary>
    public DDIMScheduler Scheduler { get; } = scheduler ?? throw new ArgumentNullException(nameof(scheduler));

    /// <summary>Samples a batch from fresh noise.</summary>
    /// <returns>(Count, in_channels, H, W) images, in the model's value range (usually [-1, 1]).</returns>
    /// <exception cref="ArgumentException">Labels, guidance or size that do not fit the model (the message gives both shapes).</exception>
    public Tensor Sample(SamplingOptions options, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Eta < 0 || double.IsNaN(options.Eta)) throw new ArgumentOutOfRangeException(nameof(options), options.Eta, $"eta must be >= 0; got {options.Eta}");
        return new UNet2DPipeline(Unet, Scheduler).Sample(options, progress);
    }

    /// <summary>Runs the DDIM loop from given latents (e.g. the output of <see cref="DDIMInversion.Invert"/>).</summary>
    /// <param name="latents">(B, C, H, W) x_T.</param>
    /// <param name="steps">Denoising steps, 1..num_train_timesteps.</param>
    /// <param name="eta">0 for deterministic DDIM.</param>
    /// <param name="classLabels">(B) int64 class ids for a class-conditional model (from <see cref="ClassifierFreeGuidance.Labels"/>).</param>
    /// <param name="guidanceScale">Classifier-free guidance weight (1: none).</param>
    /// <param name="generator">Draws the step noise when eta &gt; 0.</param>
    /// <returns>(B, C, H, W) x_0.</returns>
    public Tensor Denoise(Tensor latents, int steps, double eta = 0.0, Tensor? classLabels = null, double guidanceScale = 1.0,
        Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(latents);
        Scheduler.SetTimesteps(steps);
        if (eta < 0 || double.IsNaN(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, $"eta must be >= 0; got {eta}");
        Scheduler.Eta = eta;
        bool wasTraining = Unet.training;
        Unet.eval();
        try
        {
            IDiffusionScheduler contract = Scheduler;
            return DenoisingLoop.Run(contract, latents, contract.Timesteps,
                step => ClassifierFreeGuidance.Predict(Unet, step.ModelInput, (long)step.Timestep, classLabels, guidanceScale),
                eta > 0 ? generator : null, progress);
        }
        finally
        {
            Unet.train(wasTraining);
        }
    }
}
