using SharpVision.Experiments.Sam;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;
using SharpVision.Segmentation.Sam;

namespace SharpVision.Tests.Segmentation.Training;

/// <summary>A SAM small enough to train for a few steps in a test, and matching scenes.</summary>
static class TinySam
{
    // A model this small runs far faster on one libtorch thread than on spinning OpenMP threads.
    static TinySam() => TorchSharp.torch.set_num_threads(1);

    public static readonly SamConfig Config = new()
    {
        ImageSize = 32, PatchSize = 8, EncoderEmbedDim = 32, EncoderDepth = 1, EncoderNumHeads = 2, EncoderGlobalAttnIndexes = [0],
        WindowSize = 2, PromptEmbedDim = 32, MaskInChans = 8, DecoderMlpDim = 64, DecoderNumHeads = 2, IouHeadHiddenDim = 32,
    };

    public static readonly SceneOptions SceneOptions = new() { CanvasSize = 32, MinItemSize = 12, MaxItemSize = 20, MinVisibleArea = 12 };

    public static LabeledImages Source => FashionMnist.EmbeddedTest().Slice(0, 200);

    public static SamModel Build(long seed)
    {
        var model = SamModel.Build(Config);
        SeededInit.Apply(model, seed, redrawOthers: true);
        return model;
    }

    public static FashionMnistScenes Scenes(int seed = 0) => new(Source, SceneOptions with { Seed = seed });
}
