namespace SharpVision.Benchmarks.Measurement;

/// <summary>
/// Data of other projects the benchmarks read in place from <c>shared/reference-data/</c> beside the repository, found
/// by walking up from the current directory and from the assembly; never copied into the repository.
/// </summary>
internal static class ReferenceData
{
    /// <summary>The folder <c>shared/reference-data/<paramref name="name"/></c>.</summary>
    /// <param name="name">A path under reference-data, e.g. <c>sd-configs/stable-diffusion-v1-5</c>.</param>
    /// <exception cref="DirectoryNotFoundException">No ancestor of either start holds it (the message names both).</exception>
    public static string Require(string name)
    {
        string[] starts = [Directory.GetCurrentDirectory(), AppContext.BaseDirectory];
        foreach (var start in starts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "reference-data", name);
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        throw new DirectoryNotFoundException($"shared/reference-data/{name} not found above {starts[0]} or {starts[1]}; " +
                                             "these benchmarks read it in place from the shared folder beside the repository");
    }
}
