using SharpVision.Cli.Tour;
using SharpVision.Cli.Tour.Stages;

namespace SharpVision.Tests.Tour;

public sealed class StageResultTests
{
    [Fact]
    public void FiguresTakeTheResultRecordsPropertiesUnderSnakeCaseNames()
    {
        var result = new HashTableResult(10, [new HashTableExample("two sum", "[3, 2, 4], target 6", "[1, 2]")], []);
        var figures = StageResult.FiguresOf(result);
        Assert.Equal(["input_size", "examples", "large"], figures.Select(kv => kv.Key));
        Assert.Equal(10, figures["input_size"]!.GetValue<int>());
        Assert.Equal("[1, 2]", figures["examples"]![0]!["answer"]!.GetValue<string>());
    }
}
