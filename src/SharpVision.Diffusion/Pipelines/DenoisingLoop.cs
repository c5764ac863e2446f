using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>One step of <see cref="DenoisingLoop"/> as the model sees it.</summary>
/// <param name="Index">The step, 0-based.</param>
/// <param name="Count">Steps in the loop.</param>
/// <param name="Timestep">The scheduler's timestep of this step.</param>
/// <param name="ModelInput">(B, C, h, w) the sample scaled by the scheduler (<see cref="IDiffusionScheduler.ScaleModelInput"/>).</param>
public sealed record DenoisingStep(int Index, int Count, double Timestep, Tensor ModelInput);

/// <summary>
/// The one sampling loop of the library, written against <see cref="IDiffusionScheduler"/> so it runs any scheduler: per
/// timestep the scheduler scales the sample, the conditioned model predicts, the scheduler steps. The conditioning is
/// composed into the prediction: for Stable Diffusion the text conditioning with classifier-free guidance
/// (<see cref="TextGuidance"/>) plus any residual conditioning (<see cref="IUNetResiduals"/>: ControlNets); for the
/// class-conditional pixel UNets their class guidance and ControlNets. Follows the loop of diffusers v0.33.1
/// <c>StableDiffusionPipeline.__call__</c> (its ControlNet and image-to-image variants differ only in what they compose).
/// </summary>
/// <remarks>
/// The scheduler scales the B-row sample before guidance doubles it; scaling is elementwise, so this equals diffusers'
/// scaling of the doubled batch bit for bit. Each step runs in its own dispose scope, so memory stays flat.
/// </remarks>
public static class DenoisingLoop
{
    /// <summary>Runs the loop over <paramref name="timesteps"/> with a conditioned prediction.</summary>
    /// <param name="scheduler">A scheduler whose <see cref="IDiffusionScheduler.SetTimesteps"/> (and begin index) is set.</param>
    /// <param name="latents">(B, C, h, w) the starting sample, already scaled by init_noise_sigma or noised; not disposed.</param>
    /// <param name="timesteps">The entries of the scheduler's timesteps to visit, in order (a tail of them for image-to-image).</param>
    /// <param name="predict">The model's (B, C, h, w) prediction at a step, conditioning and guidance applied.</param>
    /// <param name="generator">Noise source of stochastic scheduler steps.</param>
    /// <param name="progress">Called after each step.</param>
    /// <returns>(B, C, h, w) the final sample.</returns>
    public static Tensor Run(IDiffusionScheduler scheduler, Tensor latents, IReadOnlyList<double> timesteps, Func<DenoisingStep, Tensor> predict,
        Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(timesteps);
        ArgumentNullException.ThrowIfNull(predict);
        using var noGrad = torch.no_grad();
        using var outer = torch.NewDisposeScope();
        var sample = latents.alias();
        for (int i = 0; i < timesteps.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            double t = timesteps[i];
            var prediction = predict(new DenoisingStep(i, timesteps.Count, t, scheduler.ScaleModelInput(sample, t)));
            var next = scheduler.Step(prediction, t, sample, generator: generator).PrevSample.MoveToOuterDisposeScope();
            sample.Dispose(); // the loop's own tensor: an alias of the input or the previous step's result
            sample = next;
            progress?.Invoke(new SamplingProgress(i + 1, timesteps.Count, (long)Math.Round(t)));
        }
        return sample.MoveToOuterDisposeScope();
    }

    /// <summary>Runs the loop with a Stable Diffusion UNet under text conditioning, guidance and optional residual conditioning.</summary>
    /// <param name="unet">The denoising UNet (run without gradients, in its current mode).</param>
    /// <param name="scheduler">A scheduler whose timesteps (and begin index) are set.</param>
    /// <param name="latents">(B, C, h, w) the starting latents.</param>
    /// <param name="timesteps">The timesteps to visit.</param>
    /// <param name="text">The text conditioning and guidance, B rows.</param>
    /// <param name="residuals">Added residual conditioning (ControlNets), or null.</param>
    /// <param name="generator">Noise source of stochastic scheduler steps.</param>
    /// <param name="progress">Called after each step.</param>
    /// <returns>(B, C, h, w) the final latents.</returns>
    /// <exception cref="ArgumentException">Latents or embeddings that do not fit the UNet.</exception>
    public static Tensor Run(UNet2DConditionModel unet, IDiffusionScheduler scheduler, Tensor latents, IReadOnlyList<double> timesteps,
        TextGuidance text, IUNetResiduals? residuals = null, Generator? generator = null, Action<SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(text);
        if (text.PromptEmbeds.shape[0] != latents.shape[0])
            throw new ArgumentException($"the text conditioning has {text.PromptEmbeds.shape[0]} rows for {latents.shape[0]} latents", nameof(text));
        using var scope = torch.NewDisposeScope();
        var hidden = text.EncoderHiddenStates(); // (B', M, D), B' = 2B under guidance
        Tensor Predict(DenoisingStep step)
        {
            var modelInput = text.ModelInput(step.ModelInput); // (B', C, h, w)
            var tt = TimestepTensor(step.Timestep, modelInput.device);
            var r = residuals?.Residuals(new DenoisingStepInput(step.Index, step.Count, tt, modelInput, hidden, text.Guided));
            return text.Combine(unet.Forward(modelInput, tt, hidden, r?.DownBlockResSamples, r?.MidBlockResSample)); // (B, C, h, w)
        }
        return Run(scheduler, latents, timesteps, Predict, generator, progress).MoveToOuterDisposeScope();
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
