using CsCheck;
using SharpVision.Experiments.Sam;
using SharpVision.Nn.Data;
using SharpVision.Tests.Algorithms;
using SharpVision.Tests.Testing;

namespace SharpVision.Tests.Experiments.Sam;

public sealed class FashionMnistScenesTests
{
    static readonly LabeledImages Source = FashionMnist.EmbeddedTest().Slice(0, 500);

    static readonly Gen<(SegmentationScene Scene, int Seed, int Index, int Size)> Scenes =
        Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 100_000], Gen.Int[0, 2].Select(i => new[] { 48, 64, 96 }[i]))
            .Select(t => (new FashionMnistScenes(Source, new SceneOptions { Seed = t.Item1, CanvasSize = t.Item3, MaxItemSize = Math.Min(40, t.Item3) }).Generate(t.Item2), t.Item1, t.Item2, t.Item3));

    [Fact]
    public void MasksAreDisjointInsideTheirFootprintsAndCoverTheThresholdedCanvas() =>
        SeededSample.Run(Scenes, t =>
        {
            var (scene, _, _, size) = t;
            Assert.InRange(scene.Objects.Count, 1, 4);
            for (int p = 0; p < size * size; p++)
            {
                int owners = scene.Objects.Count(o => o.Mask[p]);
                Assert.True(owners <= 1, $"pixel {p} belongs to {owners} masks");
                foreach (var o in scene.Objects) Assert.True(!o.Mask[p] || o.Footprint[p], $"mask pixel {p} outside its item's footprint");
                Assert.Equal(scene.Intensity[p] > 40, owners == 1);
            }
            // Later items occlude earlier ones: the last item is whole.
            Assert.Equal(scene.Objects[^1].Footprint, scene.Objects[^1].Mask);
        }, seed: 5101, iterations: 40);

    [Fact]
    public void PointsLieInsideTheirObjectAndBoxesContainTheTightBox() =>
        SeededSample.Run(Scenes, t =>
        {
            var (scene, seed, index, size) = t;
            var rng = FashionMnistScenes.RandomFor(seed, index, 1);
            foreach (var o in scene.Objects)
            {
                var point = PromptSampler.PointInside(o.Mask, size, rng);
                Assert.True(o.Mask[point.Y * size + point.X]);
                Assert.Equal(1, point.Label);
                var tight = FashionMnistScenes.TightBox(o.Mask, size);
                for (int p = 0; p < size * size; p++)
                    if (o.Mask[p]) Assert.True(tight.Contains(new PixelBox(p % size, p / size, p % size, p / size)), "mask pixel outside its tight box");
                Assert.True(o.Box.Contains(tight) && tight.Contains(o.Box));
                var noisy = PromptSampler.NoisyBox(o.Mask, size, rng);
                Assert.True(noisy.X0 <= noisy.X1 && noisy.Y0 <= noisy.Y1 && noisy.X0 >= 0 && noisy.X1 <= size - 1);
                Assert.InRange(Math.Abs(noisy.X0 - tight.X0), 0, 20.0);
                Assert.InRange(Math.Abs(noisy.Y1 - tight.Y1), 0, 20.0);
            }
        }, seed: 5102, iterations: 40);

    [Fact]
    public void CorrectionClicksComeFromTheErrorWithTheRightLabel() =>
        SeededSample.Run(Scenes, t =>
        {
            var (scene, seed, index, size) = t;
            var rng = FashionMnistScenes.RandomFor(seed, index, 2);
            var truth = scene.Objects[0].Mask;
            // A prediction that is another object: every click is a miss (positive) or spill (negative).
            var predicted = scene.Objects.Count > 1 ? scene.Objects[1].Mask : new bool[truth.Length];
            var click = PromptSampler.CorrectionClick(predicted, truth, size, rng);
            Assert.NotNull(click);
            int at = click.Value.Y * size + click.Value.X;
            Assert.NotEqual(predicted[at], truth[at]);
            Assert.Equal(truth[at] ? 1 : 0, click.Value.Label);
            Assert.Null(PromptSampler.CorrectionClick(truth, truth, size, rng));
        }, seed: 5103, iterations: 40);

    [Fact]
    public void SameSeedGivesSameScenesAndAnotherSeedDifferentOnes()
    {
        var a = new FashionMnistScenes(Source, new SceneOptions { Seed = 7 });
        var b = new FashionMnistScenes(Source, new SceneOptions { Seed = 7 });
        var c = new FashionMnistScenes(Source, new SceneOptions { Seed = 8 });
        for (int i = 0; i < 5; i++)
        {
            var (x, y) = (a.Generate(i), b.Generate(i));
            Assert.Equal(x.Rgb, y.Rgb);
            Assert.Equal(x.Objects.Select(o => o.SourceIndex), y.Objects.Select(o => o.SourceIndex));
            Assert.NotEqual(x.Rgb, c.Generate(i).Rgb);
        }
        Assert.Equal(a.Generate(3).Rgb, a.Range(0, 5).ElementAt(3).Rgb);
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new FashionMnistScenes(Source, new SceneOptions { CanvasSize = 32, MaxItemSize = 40 }));
        Assert.Contains("MaxItemSize", e.Message);
    }
}
