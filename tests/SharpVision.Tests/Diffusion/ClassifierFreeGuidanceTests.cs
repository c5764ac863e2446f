using SharpVision.Diffusion.Pipelines;
using static SharpVision.Tests.Diffusion.TinyDiffusion;

namespace SharpVision.Tests.Diffusion;

public sealed class ClassifierFreeGuidanceTests
{
    [Fact]
    public void NullClassIsTheLastEmbeddingRow()
    {
        using var conditional = Model(numClassEmbeds: 11);
        using var plain = Model();
        Assert.Equal(10L, ClassifierFreeGuidance.NullClass(conditional));
        Assert.Null(ClassifierFreeGuidance.NullClass(plain));
    }

    [Fact]
    public void GuidedPredictionIsUnconditionalPlusScaleTimesTheDifference()
    {
        using var unet = Model(numClassEmbeds: 4);
        using var noGrad = no_grad();
        torch.manual_seed(5);
        var x = randn(2, 1, 8, 8);
        var labels = tensor(new long[] { 0, 2 });
        var cond = unet.forward(x, 30L, labels);
        var uncond = unet.forward(x, 30L, full_like(labels, 3));
        Assert.True(ClassifierFreeGuidance.Predict(unet, x, 30, labels, 1.0).allclose(cond, 1e-5, 1e-6));
        Assert.True(ClassifierFreeGuidance.Predict(unet, x, 30, labels, 0.0).allclose(uncond, 1e-5, 1e-6));
        var guided = ClassifierFreeGuidance.Predict(unet, x, 30, labels, 3.0);
        Assert.True(guided.allclose(uncond + 3.0 * (cond - uncond), 1e-4, 1e-5));
        Assert.False(guided.allclose(cond, 1e-4, 1e-5));
    }

    [Fact]
    public void MissingLabelsMeanTheNullClass()
    {
        using var unet = Model(numClassEmbeds: 4);
        using var labels = ClassifierFreeGuidance.Labels(unet, null, 3)!;
        Assert.Equal([3L, 3, 3], labels.data<long>().ToArray());
    }

    [Fact]
    public void BadLabelsAreRejectedWithTheAllowedRange()
    {
        using var conditional = Model(numClassEmbeds: 4);
        using var plain = Model();
        var range = Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.Labels(conditional, [0, 4], 2));
        Assert.Contains("0..3", range.Message);
        var count = Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.Labels(conditional, [0], 2));
        Assert.Contains("(2)", count.Message);
        var none = Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.Labels(plain, [0], 1));
        Assert.Contains("no class embedding", none.Message);
        using var x = zeros(1, 1, 8, 8);
        var guidance = Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.Predict(plain, x, 1, null, 2.0));
        Assert.Contains("guidance", guidance.Message);
    }
}
