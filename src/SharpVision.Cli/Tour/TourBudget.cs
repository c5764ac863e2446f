using SharpVision.Cli.Tour.Stages;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.ControlNet;
using SharpVision.Experiments.Diffusion;
using SharpVision.Experiments.Normalization;
using SharpVision.Experiments.Sam;
using SharpVision.Experiments.VQVAE;

namespace SharpVision.Cli.Tour;

/// <summary>
/// How much work each tour stage does: one budget record per stage, the options of its experiment, whose defaults are the quick
/// budget's. <see cref="Quick"/> fits the README's promise (under 20 minutes on two cores with the embedded split);
/// <see cref="Full"/> trains longer on the full data; <see cref="Smoke"/> runs every code path in seconds and exists for tests
/// (its figures mean nothing).
/// </summary>
public sealed record TourBudget
{
    public required string Name { get; init; }
    /// <summary>The cross-entropy section: the images the classifier sees.</summary>
    public CrossEntropyExperimentOptions CrossEntropy { get; init; } = new();
    /// <summary>The normalization section: images every run sees, and the batch sizes.</summary>
    public NormalizationExperimentOptions Normalization { get; init; } = new();
    /// <summary>The VQ-VAE section: its training steps.</summary>
    public VQVAEExperimentOptions VQVAE { get; init; } = new();
    /// <summary>The diffusion section: DDPM training (steps, batch, UNet widths) and the samplers compared.</summary>
    public DiffusionExperimentOptions Diffusion { get; init; } = new();
    /// <summary>The ControlNet section: training steps, evaluation conditions and batch.</summary>
    public ControlNetExperimentOptions ControlNet { get; init; } = new();
    /// <summary>The SAM section: training steps and held-out scenes.</summary>
    public SamExperimentOptions Sam { get; init; } = new();
    /// <summary>The hash-table section: the size of the large random inputs.</summary>
    public HashTableBudget HashTables { get; init; } = new();

    public static readonly TourBudget Quick = new() { Name = "quick" };

    public static readonly TourBudget Full = new()
    {
        Name = "full", CrossEntropy = new(Images: 180_000), Normalization = new() { Images = 24_000 }, VQVAE = new(Steps: 3000),
        Diffusion = new() { Steps = 6000, Batch = 64, Channels = [32, 64, 64], Samples = 500 },
        ControlNet = new(Steps: 2000, Samples: 256, Batch: 64), Sam = new(Steps: 2500, Scenes: 300), HashTables = new(Size: 10_000_000),
    };

    public static readonly TourBudget Smoke = new()
    {
        Name = "smoke", CrossEntropy = new(Images: 256), Normalization = new() { Images = 64, BatchSizes = [2, 16] }, VQVAE = new(Steps: 3),
        Diffusion = new() { Steps = 3, Batch = 8, Channels = [8, 16], Samples = 4, DdimSteps = [2, 4], DdpmSteps = 8, InversionImages = 2 },
        ControlNet = new(Steps: 2, Samples: 2, Batch: 8), Sam = new(Steps: 2, Scenes: 4), HashTables = new(Size: 10_000),
    };

    public static readonly IReadOnlyList<TourBudget> All = [Quick, Full, Smoke];

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Not a preset name; the message lists them.</exception>
    public static TourBudget Parse(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"--budget: unknown budget '{name}' (allowed: {string.Join(", ", All.Select(b => b.Name))})");
}
