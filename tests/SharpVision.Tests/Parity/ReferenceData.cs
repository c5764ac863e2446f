namespace SharpVision.Tests.Parity;

/// <summary>
/// Data of other projects that tests read in place from <c>shared/reference-data/</c> beside the repository (found by
/// walking up from the test assembly); never copied into the repository. Absent on machines without shared/.
/// </summary>
public static class ReferenceData
{
    /// <summary>The folder <c>shared/reference-data/<paramref name="name"/></c>, or null when no ancestor has it.</summary>
    public static string? Find(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "reference-data", name);
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}
