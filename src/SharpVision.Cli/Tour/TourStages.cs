using SharpVision.Cli.Tour.Stages;

namespace SharpVision.Cli.Tour;

/// <summary>The tour's sections in report order.</summary>
public static class TourStages
{
    public static readonly IReadOnlyList<TourStage> All =
    [
        new CrossEntropyStage(), new NormalizationStage(), new VQVAEStage(), new DiffusionStage(), new ControlNetStage(), new SamStage(), new HashTableStage(),
    ];
}
