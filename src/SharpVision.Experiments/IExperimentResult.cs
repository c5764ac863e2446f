namespace SharpVision.Experiments;

/// <summary>What every experiment returns beside its figures: the files and folders it wrote, so that a caller (a command,
/// the tour) takes their paths from the result instead of retyping the names.</summary>
public interface IExperimentResult
{
    /// <summary>Every file or folder the run wrote, as full paths.</summary>
    IReadOnlyList<string> Files { get; }
}
