namespace SharpVision.Nn.Training;

/// <summary>Another run is writing to the output folder: the lock file named in the message is held.</summary>
public sealed class OutputFolderLockedException(string folder, string lockFile, Exception? inner = null)
    : IOException($"{folder} is in use by another run: {lockFile} is locked; wait for that run to end or choose another output folder", inner)
{
    /// <summary>The output folder.</summary>
    public string Folder { get; } = folder;

    /// <summary>The held lock file.</summary>
    public string LockFile { get; } = lockFile;
}
