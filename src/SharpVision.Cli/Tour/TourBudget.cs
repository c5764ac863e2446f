namespace SharpVision.Cli.Tour;

/// <summary>
/// How much work each tour stage does. <see cref="Quick"/> fits the README's promise (under 20 minutes on two cores with the
/// embedded split); <see cref="Full"/> trains longer on the full data; <see cref="Smoke"/> runs every code path in seconds
/// and exists for tests (its figures mean nothing).
/// </summary>
public sealed record TourBudget
{
    public required string Name { get; init; }
    /// <summary>Images the cross-entropy classifier sees.</summary>
    public int ClassifierImages { get; init; }
    /// <summary>Images every normalization run sees, and its batch sizes.</summary>
    public int NormImages { get; init; }
    public int[] NormBatchSizes { get; init; } = [2, 4, 16, 64];
    /// <summary>VQ-VAE training steps (batch 64).</summary>
    public int VqSteps { get; init; }
    /// <summary>DDPM training steps, batch and UNet widths.</summary>
    public int DiffusionSteps { get; init; }
    public int DiffusionBatch { get; init; } = 64;
    public int[] DiffusionChannels { get; init; } = [16, 32, 32];
    /// <summary>Samples per sampler setting, DDIM step counts and the DDPM step count.</summary>
    public int SamplerSamples { get; init; }
    public int[] DdimSteps { get; init; } = [10, 20, 50];
    public int DdpmSteps { get; init; } = 1000;
    public int InversionImages { get; init; } = 16;
    /// <summary>ControlNet training steps and evaluation samples.</summary>
    public int ControlNetSteps { get; init; }
    public int ControlNetSamples { get; init; }
    /// <summary>SAM training steps and held-out scenes.</summary>
    public int SamSteps { get; init; }
    public int SamScenes { get; init; }
    /// <summary>Size of the large random inputs of the hash-table problems.</summary>
    public int HashTableSize { get; init; }

    public static readonly TourBudget Quick = new()
    {
        Name = "quick", ClassifierImages = 48_000, NormImages = 10_000, VqSteps = 200, DiffusionSteps = 1000, DiffusionBatch = 48,
        SamplerSamples = 50, ControlNetSteps = 300, ControlNetSamples = 48, SamSteps = 1500, SamScenes = 100, HashTableSize = 1_000_000,
    };

    public static readonly TourBudget Full = new()
    {
        Name = "full", ClassifierImages = 180_000, NormImages = 24_000, VqSteps = 3000, DiffusionSteps = 6000, SamplerSamples = 500,
        DiffusionChannels = [32, 64, 64], ControlNetSteps = 2000, ControlNetSamples = 256, SamSteps = 2500, SamScenes = 300,
        HashTableSize = 10_000_000,
    };

    public static readonly TourBudget Smoke = new()
    {
        Name = "smoke", ClassifierImages = 256, NormImages = 64, NormBatchSizes = [2, 16], VqSteps = 3, DiffusionSteps = 3,
        DiffusionBatch = 8, DiffusionChannels = [8, 16], SamplerSamples = 4, DdimSteps = [2, 4], DdpmSteps = 8, InversionImages = 2,
        ControlNetSteps = 2, ControlNetSamples = 2, SamSteps = 2, SamScenes = 4, HashTableSize = 10_000,
    };

    public static readonly IReadOnlyList<TourBudget> All = [Quick, Full, Smoke];

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Not a preset name; the message lists them.</exception>
    public static TourBudget Parse(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"--budget: unknown budget '{name}' (allowed: {string.Join(", ", All.Select(b => b.Name))})");
}
