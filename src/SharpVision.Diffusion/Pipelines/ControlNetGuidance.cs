using SharpVision.Diffusion.ControlNet;
using SharpVision.Nn;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// One or several ControlNets as residual conditioning of <see cref="DenoisingLoop"/>: each on its own condition image at
/// its own scale, on during its <see cref="ControlSchedule"/> window (diffusers' <c>controlnet_keep</c>: outside it the
/// net runs at scale 0, as the reference does), residuals summed in order. Follows the ControlNet part of diffusers
/// v0.33.1 <c>StableDiffusionControlNetPipeline.__call__</c>, guess mode included.
/// </summary>
/// <remarks>
/// Under classifier-free guidance the condition images are doubled to match the batch; in guess mode the ControlNets
/// see only the text half (the scaled latents and the prompt's states) and the negative half gets zero residuals.
/// </remarks>
public sealed class ControlNetGuidance : IUNetResiduals
{
    readonly IReadOnlyList<ControlNetModel> nets;
    readonly IReadOnlyList<Tensor> images;
    readonly IReadOnlyList<double> scales;
    readonly IReadOnlyList<ControlSchedule> schedules;

    /// <summary>guess_mode.</summary>
    public bool GuessMode { get; }

    /// <param name="controlnets">At least one ControlNet.</param>
    /// <param name="images">One (B, C_k, H, W) condition image per ControlNet, batched like the latents (not doubled for guidance).</param>
    /// <param name="conditioningScales">One scale per ControlNet, or one for all.</param>
    /// <param name="schedules">One window per ControlNet, or one for all.</param>
    /// <param name="guessMode">diffusers' guess_mode.</param>
    /// <exception cref="ArgumentException">No ControlNets, or counts that differ from theirs (both named).</exception>
    public ControlNetGuidance(IReadOnlyList<ControlNetModel> controlnets, IReadOnlyList<Tensor> images, IReadOnlyList<double> conditioningScales,
        IReadOnlyList<ControlSchedule> schedules, bool guessMode)
    {
        ArgumentNullException.ThrowIfNull(controlnets);
        ArgumentNullException.ThrowIfNull(images);
        if (controlnets.Count == 0) throw new ArgumentException("at least one ControlNet is needed", nameof(controlnets));
        nets = controlnets;
        this.images = Count(images, controlnets.Count, nameof(images));
        scales = Count(conditioningScales, controlnets.Count, "controlnet_conditioning_scale");
        this.schedules = Count(schedules, controlnets.Count, "control_guidance_start/end");
        GuessMode = guessMode;
    }

    static IReadOnlyList<T> Count<T>(IReadOnlyList<T> values, int nets, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count == nets) return values;
        if (values.Count == 1) return Enumerable.Repeat(values[0], nets).ToArray();
        throw new ArgumentException($"{name} has {values.Count} values for {nets} ControlNets", name);
    }

    /// <inheritdoc/>
    public ControlNetOutput? Residuals(DenoisingStepInput step)
    {
        ArgumentNullException.ThrowIfNull(step);
        // In guess mode under guidance only the text half goes through the ControlNets.
        bool textHalfOnly = GuessMode && step.Guided;
        var input = textHalfOnly ? step.ModelInput.chunk(2)[1] : step.ModelInput; // (B or 2B, C, h, w)
        var hidden = textHalfOnly ? step.EncoderHiddenStates.chunk(2)[1] : step.EncoderHiddenStates;
        ControlNetOutput? sum = null;
        for (int k = 0; k < nets.Count; k++)
        {
            var image = step.Guided && !GuessMode ? torch.cat([images[k], images[k]]) : images[k];
            double scale = schedules[k].Scale(scales[k], step.Index, step.Count);
            var r = nets[k].Forward(input, step.Timestep, hidden, image.to(nets[k].Dtype), scale, GuessMode);
            sum = sum is null ? r : sum.Add(r);
        }
        if (!textHalfOnly) return sum;
        // The negative half gets zero residuals: cat([zeros, d]).
        return new ControlNetOutput(sum!.DownBlockResSamples.Select(d => torch.cat([torch.zeros_like(d), d])).ToArray(),
            torch.cat([torch.zeros_like(sum.MidBlockResSample), sum.MidBlockResSample]));
    }

    /// <summary>
    /// diffusers' <c>prepare_image</c> for each condition image: (b, C, H, W) in [0, 1], float32, repeated to the batch —
    /// each image n times when b equals the prompt count, the single image B·n times when b = 1.
    /// </summary>
    /// <exception cref="ArgumentException">An image that is not (b, C, H, W), or b neither 1 nor the prompt count.</exception>
    public static Tensor PrepareImage(Tensor image, long batch, int numImagesPerPrompt, string paramName = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() == 3) image = image.unsqueeze(0);
        if (image.dim() != 4) throw new ArgumentException($"{paramName} must be (b, C, H, W); got {Shapes.Format(image)}", paramName);
        long repeat = image.shape[0] == 1 ? batch : numImagesPerPrompt;
        if (image.shape[0] != 1 && image.shape[0] * numImagesPerPrompt != batch)
            throw new ArgumentException($"{paramName} has {image.shape[0]} images; give 1 or one per prompt ({batch / numImagesPerPrompt})", paramName);
        return image.to(ScalarType.Float32).repeat_interleave(repeat, 0);
    }
}
