using SharpVision.Experiments.Normalization;
using SharpVision.Nn.Data;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Experiments.Normalization;

public sealed class NormalizationStudyTests
{
    [Fact]
    public void LayerAndInstanceNormAreGroupNormWithOneAndWithCGroups()
    {
        var ln = Assert.IsType<GroupNorm>(NormalizationStudy.CreateNorm(NormKind.LayerNorm, 32));
        var inorm = Assert.IsType<GroupNorm>(NormalizationStudy.CreateNorm(NormKind.InstanceNorm, 32));
        var gn = Assert.IsType<GroupNorm>(NormalizationStudy.CreateNorm(NormKind.GroupNorm, 32));
        Assert.Equal((1, 32, 8), (ln.num_groups, inorm.num_groups, gn.num_groups));
        Assert.IsType<BatchNorm2d>(NormalizationStudy.CreateNorm(NormKind.BatchNorm, 32));
        Assert.IsType<SwitchNorm2d>(NormalizationStudy.CreateNorm(NormKind.SwitchNorm, 32));
    }

    [Fact]
    public void ARunIsDeterministicAndReportsSwitchWeightsThatSumToOne()
    {
        var all = FashionMnist.EmbeddedTest();
        var train = all.Slice(0, 64);
        var test = all.Slice(64, 64);
        var options = new NormalizationStudyOptions([NormKind.SwitchNorm], [4], Images: 32, Seed: 3);
        var a = NormalizationStudy.RunOne(NormKind.SwitchNorm, 4, train, test, options);
        var b = NormalizationStudy.RunOne(NormKind.SwitchNorm, 4, train, test, options);
        Assert.Equal(a.TestAccuracy, b.TestAccuracy);
        Assert.Equal(a.FinalTrainLoss, b.FinalTrainLoss);
        Assert.Equal(3, a.SwitchWeights.Count);
        Assert.All(a.SwitchWeights, w =>
        {
            Assert.Equal(1.0, w.Mean.Sum(), 6);
            Assert.Equal(1.0, w.Variance.Sum(), 6);
        });
    }
}
