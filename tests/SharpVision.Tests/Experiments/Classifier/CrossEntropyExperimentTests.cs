using SharpVision.Experiments;
using SharpVision.Experiments.Classifier;
using SharpVision.Nn.Data;

namespace SharpVision.Tests.Experiments.Classifier;

public sealed class CrossEntropyExperimentTests
{
    [Fact]
    public void ARunWritesEveryFileItListsAndReportsProgressUpToOne()
    {
        var all = FashionMnist.EmbeddedTest();
        var dir = Directory.CreateTempSubdirectory("sv-crossentropy-").FullName;
        try
        {
            var fractions = new List<double>();
            var result = CrossEntropyExperiment.Run(all.Slice(0, 128), all.Slice(128, 64), dir, new CrossEntropyExperimentOptions(Images: 128),
                new ImmediateProgress<ExperimentProgress>(p => fractions.Add(p.Fraction)));
            Assert.All(result.Files, f => Assert.True(File.Exists(f) || Directory.Exists(f), f));
            Assert.Equal(CrossEntropyExperiment.ClassifierFolder(dir), result.ClassifierFolder);
            Assert.True(FeatureClassifier.Exists(result.ClassifierFolder));
            Assert.Equal(FashionMnist.ClassNames, result.PerClassAccuracy.Keys);
            Assert.Equal((64, 128), (result.TestImages, result.TrainImagesSeen));
            Assert.Equal(1.0, fractions[^1]);
            Assert.True(fractions.Zip(fractions.Skip(1)).All(p => p.First <= p.Second), "progress goes forward");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
