namespace SharpVision.Tests.Testing;

/// <summary>
/// A test class with a folder of its own under the system temp directory, deleted when each test ends (xUnit makes
/// one instance a test, so every test gets a fresh folder).
/// </summary>
/// <param name="prefix">The start of the folder's name, naming the test class (<c>sv-unet-</c>).</param>
/// <param name="create">Whether the folder exists from the start; otherwise the test (or the code under test) makes it.</param>
public abstract class TempFolderTest(string prefix, bool create = false) : IDisposable
{
    /// <summary>The folder's path.</summary>
    protected string Temp { get; } = NewFolder(prefix, create);

    public void Dispose()
    {
        if (Directory.Exists(Temp)) Directory.Delete(Temp, recursive: true);
        GC.SuppressFinalize(this);
    }

    static string NewFolder(string prefix, bool create)
    {
        var path = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        if (create) Directory.CreateDirectory(path);
        return path;
    }
}
