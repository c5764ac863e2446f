using SharpVision.Diffusion.ControlNet;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>What one step of <see cref="DenoisingLoop"/> hands a residual source.</summary>
/// <param name="Index">The step, 0-based.</param>
/// <param name="Count">Steps in the loop (diffusers' <c>len(timesteps)</c>).</param>
/// <param name="Timestep">() the timestep as the UNet gets it.</param>
/// <param name="ModelInput">(B', C, h, w) the scaled UNet input: B' = 2B under guidance (negative half first), else B.</param>
/// <param name="EncoderHiddenStates">(B', M, D) the UNet's encoder states.</param>
/// <param name="Guided">Whether the batch holds both guidance halves.</param>
public sealed record DenoisingStepInput(int Index, int Count, Tensor Timestep, Tensor ModelInput, Tensor EncoderHiddenStates, bool Guided);

/// <summary>
/// A conditioning that adds residuals to the UNet's skip states and mid block at each step (ControlNet); the
/// <see cref="DenoisingLoop"/> composes it with the text conditioning and its guidance.
/// </summary>
public interface IUNetResiduals
{
    /// <summary>The residuals for this step, batched like <see cref="DenoisingStepInput.ModelInput"/>; null for none.</summary>
    ControlNetOutput? Residuals(DenoisingStepInput step);
}
