using SharpVision.Segmentation.Sam;

namespace SharpVision.Tests.Segmentation;

/// <summary>A MobileSAM (TinyViT encoder) small enough for unit tests: 64×64 input, four stages, a 4×4 embedding.</summary>
static class TinyMobileSam
{
    /// <summary>Stage grids 16, 8, 4, 4; the third stage's 3×3 windows pad its 4×4 grid.</summary>
    public static readonly SamConfig Config = new()
    {
        ImageSize = 64, PatchSize = 16, PromptEmbedDim = 32, MaskInChans = 4, DecoderMlpDim = 64, DecoderNumHeads = 2, IouHeadHiddenDim = 32,
        TinyViT = new TinyViTConfig { EmbedDims = [8, 16, 24, 32], Depths = [1, 1, 2, 1], NumHeads = [1, 2, 2, 2], WindowSizes = [2, 2, 3, 2], NumClasses = 10 },
    };
}
