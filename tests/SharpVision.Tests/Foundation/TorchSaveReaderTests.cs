using SharpVision.Nn.Checkpoints;
using SharpVision.Tests.Fuzzing;

namespace SharpVision.Tests.Foundation;

/// <summary>What the restricted torch.save reader accepts; what it rejects is in tests/fuzz-regressions/torch-save.</summary>
public sealed class TorchSaveReaderTests
{
    [Fact]
    public void TensorsAreViewsOfTheirSharedStorageAtTheirOffsets()
    {
        // weight = storage[0:4] as (2, 2), bias = storage[4:6]; storage holds 0..5.
        var read = TorchSaveReader.Read(new MemoryStream(FuzzTargets.TorchSaveLayout()), "t.pth");
        Assert.Equal([0f, 1, 2, 3], read["weight"].contiguous().data<float>().ToArray());
        Assert.Equal([2L, 2], read["weight"].shape);
        Assert.Equal([4f, 5], read["bias"].contiguous().data<float>().ToArray());
    }

    [Fact]
    public void EveryFixtureWrittenByTorchSaveReads()
    {
        var files = Directory.GetFiles(FixtureRoot.Path, "*.pth", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var file in files)
            Assert.NotEmpty(StateDict.LoadPyTorch(file));
    }

    [Fact]
    public void AZeroStrideViewReadsTheElementItPointsAt()
    {
        var file = File.ReadAllBytes(Path.Combine(FuzzTargets.Named("torch-save").RegressionFolder, "zero-stride-view-at-offset.bin"));
        var read = TorchSaveReader.Read(new MemoryStream(file), "t.pth");
        Assert.Equal([3f, 3, 3, 3], read["w"].contiguous().data<float>().ToArray());
    }
}
