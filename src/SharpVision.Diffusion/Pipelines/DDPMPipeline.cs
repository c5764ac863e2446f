using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// DDPM ancestral sampling (Ho et al. 2020, https://arxiv.org/abs/2006.11239) with a <see cref="UNet2DModel"/>: all T
/// training timesteps by default, or a strided subset. Follows diffusers 0.40 <c>pipelines/ddpm/pipeline_ddpm.py</c>,
/// adding class labels and classifier-free guidance (<see cref="ClassifierFreeGuidance"/>).
/// </summary>
/// <remarks>Every step draws noise from the seeded generator, so a seed fixes the result on a given device.
/// Each step runs in its own dispose scope. The model runs in eval mode (its previous mode is restored).</remarks>
public sealed class DDPMPipeline(UNet2DModel unet, DDPMScheduler scheduler)
{
    /// <summary>The denoising model.</summary>
    public UNet2DModel Unet { get; } = unet ?? throw new ArgumentNullException(nameof(unet));

    /// <summary>The scheduler; its timesteps are set by each run.</summary>
    public DDPMScheduler Scheduler { get; } = scheduler ?? throw new ArgumentNullException(nameof(scheduler));

    /// <summary>Samples a batch. <c>options.Steps</c> equal to num_train_timesteps runs the full chain; <c>Eta</c> is ignored.</summary>
    /// <returns>(Count, in_channels, H, W) images in the model's value range.</returns>
    /// <exception cref="ArgumentException">Labels, guidance or size that do not fit the model.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Steps outside 1..num_train_timesteps.</exception>
    public Tensor Sample(SamplingOptions options, Action<SamplingProgress>? progress = null) =>
        new UNet2DPipeline(Unet, Scheduler).Sample(options, progress);
}
