using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>One ControlNet's part in a sampling run: its condition image, scale and active window.</summary>
/// <param name="Net">A ControlNet for the sampled UNet.</param>
/// <param name="Condition">(B, conditioning_channels, H·f, W·f) condition image.</param>
/// <param name="Scale">Conditioning scale.</param>
/// <param name="Schedule">Steps during which it applies (null: all).</param>
public sealed record UNet2DControl(UNet2DControlNet Net, Tensor Condition, double Scale = 1.0, ControlSchedule? Schedule = null);

/// <summary>
/// Deterministic (or eta &gt; 0) DDIM sampling of a <see cref="UNet2DModel"/> under zero or more ControlNets, each applied
/// only during its <see cref="ControlSchedule"/> window and with residuals summed, as diffusers' ControlNet pipelines do
/// (<c>cond_scale = conditioning_scale · controlnet_keep[i]</c>). A ControlNet outside its window is not run at all: its
/// residuals would be zero. Runs the shared <see cref="DenoisingLoop"/> (the scheduler's <see cref="DDIMScheduler.Eta"/> is set to eta).
/// </summary>
public static class ControlledDdimSampling
{
    /// <param name="unet">The locked UNet.</param>
    /// <param name="scheduler">A DDIM scheduler with <see cref="DDIMScheduler.SetTimesteps"/> already called.</param>
    /// <param name="initialNoise">(B, in_channels, H, W) x_T (scaled by init_noise_sigma here).</param>
    /// <param name="controls">The ControlNets with their condition images.</param>
    /// <param name="classLabels">(B) labels for a class-conditional UNet.</param>
    /// <param name="eta">DDIM eta.</param>
    /// <param name="generator">Noise source for eta &gt; 0.</param>
    /// <param name="progress">Called after each denoising step.</param>
    /// <returns>(B, out_channels, H, W) x_0.</returns>
    /// <exception cref="ArgumentException">A ControlNet for another UNet configuration, or a condition image that does not fit.</exception>
    /// <exception cref="InvalidOperationException">The scheduler's timesteps are not set.</exception>
    public static Tensor Sample(UNet2DModel unet, DDIMScheduler scheduler, Tensor initialNoise, IReadOnlyList<UNet2DControl> controls,
        Tensor? classLabels = null, double eta = 0.0, Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(initialNoise);
        ArgumentNullException.ThrowIfNull(controls);
        if (scheduler.NumInferenceSteps is null) throw new InvalidOperationException("call scheduler.SetTimesteps before sampling");
        for (int k = 0; k < controls.Count; k++)
        {
            try { controls[k].Net.RequireCompatible(unet); }
            catch (ArgumentException e) { throw new ArgumentException($"controls[{k}]: {e.Message}", nameof(controls), e); }
        }

        scheduler.Eta = eta;
        using var scope = torch.NewDisposeScope();
        IDiffusionScheduler contract = scheduler;
        Tensor Predict(DenoisingStep step)
        {
            using var tt = torch.tensor(new[] { (long)step.Timestep }, dtype: ScalarType.Int64, device: step.ModelInput.device);
            ControlNetOutput? residuals = null;
            foreach (var c in controls)
            {
                if (!(c.Schedule ?? ControlSchedule.Always).IsActive(step.Index, step.Count)) continue;
                var r = c.Net.Forward(step.ModelInput, tt, c.Condition, classLabels, c.Scale);
                residuals = residuals is null ? r : residuals.Add(r);
            }
            return unet.Forward(step.ModelInput, tt, classLabels, residuals?.DownBlockResSamples, residuals?.MidBlockResSample);
        }
        var noise = initialNoise * scheduler.InitNoiseSigma;
        return DenoisingLoop.Run(contract, noise, contract.Timesteps, Predict, generator, progress).MoveToOuterDisposeScope();
    }
}
