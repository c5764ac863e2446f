using SharpVision.Experiments.Sam;
using SharpVision.Tests.Segmentation.Training;

namespace SharpVision.Tests.Experiments.Sam;

public sealed class SamEvaluatorTests
{
    [Fact]
    public void EvaluatesEverySettingOnEveryObject()
    {
        using var model = TinySam.Build(21);
        var scenes = TinySam.Scenes(77);
        int done = 0;
        var e = SamEvaluator.Evaluate(model, scenes, 5, promptSeed: 3, exampleScenes: 2, batchScenes: 2, progress: n => done = n);
        Assert.Equal(5, done);
        int objects = scenes.Range(0, 5).Sum(s => s.Objects.Count);
        Assert.Equal(objects, e.Objects);
        Assert.Equal(3, e.Settings.Count);
        foreach (var s in e.Settings)
        {
            Assert.Equal(objects, s.Objects);
            Assert.InRange(s.MeanIou, 0, 1);
            Assert.True(s.Above75 <= s.Above50);
        }
        int exampleObjects = scenes.Range(0, 2).Sum(s => s.Objects.Count);
        Assert.Equal(3 * exampleObjects, e.Examples.Count);
        // One point + two clicks holds three clicks per object, a box setting a box and no clicks.
        Assert.All(e.Examples.Where(x => x.Setting == PromptSetting.PointAndTwoClicks), x => Assert.Equal(3, x.Points.Count));
        Assert.All(e.Examples.Where(x => x.Setting == PromptSetting.OneBox), x => { Assert.Empty(x.Points); Assert.NotNull(x.Box); });
        var table = e.ToMarkdown();
        Assert.Contains("| 1 point + 2 clicks |", table);
        Assert.Equal(6, table.Trim().Split('\n').Length);

        // Same seeds, same numbers.
        var again = SamEvaluator.Evaluate(model, scenes, 5, promptSeed: 3, batchScenes: 5);
        Assert.Equal(e.Settings.Select(s => s.MeanIou), again.Settings.Select(s => s.MeanIou));
    }

    [Fact]
    public void PearsonAndIouFollowTheirDefinitions()
    {
        Assert.Equal(1.0, SamEvaluator.Pearson([1, 2, 3], [2, 4, 6]), 12);
        Assert.Equal(-1.0, SamEvaluator.Pearson([1, 2, 3], [3, 2, 1]), 12);
        Assert.True(double.IsNaN(SamEvaluator.Pearson([1, 1, 1], [1, 2, 3])));
        Assert.Equal(1.0 / 3, SamEvaluator.Iou([true, true, false], [true, false, true]), 12);
        Assert.Equal(1.0, SamEvaluator.Iou([false], [false]));
    }
}
