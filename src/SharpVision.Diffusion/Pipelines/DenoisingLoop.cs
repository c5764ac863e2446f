using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// The one denoising loop of the Stable Diffusion pipelines, written against <see cref="IDiffusionScheduler"/> so it
/// runs any scheduler: per timestep, the latents (doubled under guidance) are scaled by the scheduler, the UNet
/// predicts under the text conditioning plus any residual conditioning (ControlNets), the guidance halves are
/// combined, and the scheduler steps. Follows the loop of diffusers v0.33.1 <c>StableDiffusionPipeline.__call__</c>
/// (and its ControlNet and image-to-image variants, which differ only in what they add here).
/// </summary>
public static class DenoisingLoop
{
    /// <summary>Runs the loop over <paramref name="timesteps"/>.</summary>
    /// <param name="unet">The denoising UNet (run without gradients, in its current mode).</param>
    /// <param name="scheduler">A scheduler whose <see cref="IDiffusionScheduler.SetTimesteps"/> (and begin index) is set.</param>
    /// <param name="latents">(B, C, h, w) the starting latents, already scaled by init_noise_sigma or noised.</param>
    /// <param name="timesteps">The entries of the scheduler's timesteps to visit, in order (a tail of them for image-to-image).</param>
    /// <param name="text">The text conditioning and guidance, B rows.</param>
    /// <param name="residuals">Added residual conditioning, or null.</param>
    /// <param name="generator">Noise source of stochastic scheduler steps.</param>
    /// <param name="progress">Called after each step.</param>
    /// <returns>(B, C, h, w) the final latents.</returns>
    /// <exception cref="ArgumentException">Latents or embeddings that do not fit the UNet.</exception>
    public static Tensor Run(UNet2DConditionModel unet, IDiffusionScheduler scheduler, Tensor latents, IReadOnlyList<double> timesteps,
        TextGuidance text, IUNetResiduals? residuals = null, Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(timesteps);
        ArgumentNullException.ThrowIfNull(text);
        if (text.PromptEmbeds.shape[0] != latents.shape[0])
            throw new ArgumentException($"the text conditioning has {text.PromptEmbeds.shape[0]} rows for {latents.shape[0]} latents", nameof(text));

        using var noGrad = torch.no_grad();
        using var outer = torch.NewDisposeScope();
        var hidden = text.EncoderHiddenStates(); // (B', M, D)
        var sample = latents.alias();
        for (int i = 0; i < timesteps.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            double t = timesteps[i];
            var modelInput = scheduler.ScaleModelInput(text.ModelInput(sample), t); // (B', C, h, w)
            var tt = TimestepTensor(t, modelInput.device);
            var r = residuals?.Residuals(new DenoisingStepInput(i, timesteps.Count, tt, modelInput, hidden, text.Guided));
            var noisePred = unet.Forward(modelInput, tt, hidden, r?.DownBlockResSamples, r?.MidBlockResSample);
            noisePred = text.Combine(noisePred); // (B, C, h, w)
            var next = scheduler.Step(noisePred, t, sample, generator: generator).PrevSample.MoveToOuterDisposeScope();
            sample.Dispose(); // the loop's own tensor: an alias of the input or the previous step's result
            sample = next;
            progress?.Invoke(new SamplingProgress(i + 1, timesteps.Count, (long)Math.Round(t)));
        }
        return sample.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A timestep as diffusers hands it to the UNet and to <c>add_noise</c>: int64 for the integer schedules,
    /// float64 otherwise (the UNet's sinusoidal embedding takes it to float32, as diffusers' float32 timesteps are).
    /// </summary>
    /// <param name="count">0 for a 0-dim tensor, else a (count) tensor of the same value.</param>
    public static Tensor TimestepTensor(double t, Device? device = null, long count = 0)
    {
        var scalar = t == Math.Floor(t)
            ? torch.tensor((long)t, dtype: ScalarType.Int64, device: device)
            : torch.tensor(t, dtype: ScalarType.Float64, device: device);
        return count == 0 ? scalar : scalar.repeat(count);
    }
}
