using SharpVision.Nn.Checkpoints;
using SharpVision.Tests.Fuzzing;

namespace SharpVision.Tests.Foundation;

/// <summary>What the validating safetensors reader accepts; what it rejects is in tests/fuzz-regressions/safetensors.</summary>
public sealed class SafetensorsReaderTests
{
    [Fact]
    public void ReadsMetadataScalarsAndEmptyTensorsInOffsetOrder()
    {
        var file = FuzzTargets.Safetensors(
            """{"__metadata__":{"format":"pt"},"b":{"dtype":"I16","shape":[2],"data_offsets":[1,5]},"s":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[5,5]}}""", 5);
        file[^5] = 9;           // s = 9
        file[^4] = 1; file[^2] = 2; // b = [1, 2]
        var read = SafetensorsReader.Read(new MemoryStream(file), "t.safetensors");
        Assert.Equal(["b", "e", "s"], read.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(9, read["s"].item<byte>());
        Assert.Equal([1, 2], read["b"].data<short>().ToArray());
        Assert.Equal([0L, 3], read["e"].shape);
    }

    [Fact]
    public void EveryFixtureWrittenByPythonsSafetensorsReads()
    {
        var files = Directory.GetFiles(FixtureRoot.Path, "*.safetensors", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var file in files)
            foreach (var t in StateDict.LoadSafetensors(file).Values) t.Dispose();
    }

    [Fact]
    public void AGapBetweenTensorsIsRejected()
    {
        var file = FuzzTargets.Safetensors("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsReader.Read(new MemoryStream(file), "t.safetensors"));
        Assert.Contains("gap before tensor 'a'", e.Message);
    }
}
