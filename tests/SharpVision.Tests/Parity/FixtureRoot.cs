namespace SharpVision.Tests.Parity;

/// <summary>
/// Where fixtures live: <c>SHARPVISION_FIXTURES</c> when set, else the repository's <c>tests/fixtures</c>
/// (found by walking up from the test assembly).
/// </summary>
public static class FixtureRoot
{
    public const string EnvironmentVariable = "SHARPVISION_FIXTURES";

    public static string Path { get; } = Resolve();

    static string Resolve()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            if (!Directory.Exists(fromEnv)) throw new DirectoryNotFoundException($"{EnvironmentVariable}={fromEnv} does not exist");
            return System.IO.Path.GetFullPath(fromEnv);
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/fixtures not found above {AppContext.BaseDirectory}; set {EnvironmentVariable}");
    }

    /// <summary>A file or folder under the root, e.g. <c>algo/hash_table_cases.json</c>.</summary>
    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);
}
