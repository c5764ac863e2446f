namespace SharpVision.Diffusion.Pipelines;

/// <summary>What to sample.</summary>
/// <param name="Count">Images in the batch.</param>
/// <param name="Steps">Denoising steps (DDIM: any 1..T; DDPM: T for the full ancestral chain, fewer for a strided one).</param>
/// <param name="Eta">DDIM's eta (0: deterministic; 1: DDPM-like variance). Ignored by DDPM.</param>
/// <param name="Seed">Seeds the <see cref="TorchSharp.torch.Generator"/> that draws the initial noise and every later noise.</param>
/// <param name="ClassLabels">(Count) class ids for a class-conditional model; null: the null class (unconditional).
/// See <see cref="ClassifierFreeGuidance"/> for the convention.</param>
/// <param name="GuidanceScale">Classifier-free guidance weight s: 1 uses the class prediction alone, 0 the null-class
/// prediction alone, s &gt; 1 extrapolates away from the unconditional prediction.</param>
/// <param name="Height">Sample height; default the model's sample_size.</param>
/// <param name="Width">Sample width; default the model's sample_size.</param>
public sealed record SamplingOptions(int Count = 16, int Steps = 50, double Eta = 0.0, long Seed = 0,
    long[]? ClassLabels = null, double GuidanceScale = 1.0, int? Height = null, int? Width = null);

/// <summary>Reported after each denoising (or inversion) step.</summary>
/// <param name="Step">Steps done, 1-based.</param>
/// <param name="Steps">Steps in the loop.</param>
/// <param name="Timestep">The timestep just processed.</param>
public readonly record struct SamplingProgress(int Step, int Steps, long Timestep);
