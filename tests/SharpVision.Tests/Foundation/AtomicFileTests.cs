using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Foundation;

public sealed class AtomicFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-atomic-").FullName;

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporary()
    {
        var path = Path.Combine(dir, "state.json");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new IOException("disk full"); }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void WritesCreateTheDirectory()
    {
        var path = Path.Combine(dir, "a", "b", "c.txt");
        AtomicFile.WriteAllText(path, "x");
        Assert.Equal("x", File.ReadAllText(path));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
