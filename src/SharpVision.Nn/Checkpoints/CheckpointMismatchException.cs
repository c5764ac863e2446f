namespace SharpVision.Nn.Checkpoints;

/// <summary>
/// A state_dict that does not fit a module: every missing key, unexpected key and shape mismatch is
/// listed by name (strict loading reports all of them at once, not the first).
/// </summary>
public sealed class CheckpointMismatchException : Exception
{
    /// <summary>Keys the module has and the checkpoint lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; }
    /// <summary>Keys the checkpoint has and the module lacks.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }
    /// <summary>Keys present on both sides with different shapes, as "key: checkpoint (a, b) vs module (c, d)".</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    public CheckpointMismatchException(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> shapes)
        : base(Describe(source, missing, unexpected, shapes))
    {
        MissingKeys = missing;
        UnexpectedKeys = unexpected;
        ShapeMismatches = shapes;
    }

    static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> shapes)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} missing key(s): {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"{unexpected.Count} unexpected key(s): {string.Join(", ", unexpected)}");
        if (shapes.Count > 0) parts.Add($"{shapes.Count} shape mismatch(es): {string.Join("; ", shapes)}");
        return $"Checkpoint {source} does not fit the model: {string.Join(". ", parts)}.";
    }
}
