namespace SharpVision.Nn.Training;

/// <summary>
/// One run per output folder: <see cref="Acquire"/> opens <c>.sharpvision.lock</c> in the folder with
/// <see cref="FileShare.None"/>, which .NET backs by an exclusive advisory lock (<c>flock</c> on Unix, a sharing lock on
/// Windows). The operating system drops it when the holder exits in any way, SIGKILL included, so a killed run leaves a
/// lock file that the next run (<c>--resume</c>) simply takes over; a second live run fails at once instead of
/// interleaving its files with the first one's.
/// </summary>
public sealed class OutputFolderLock : IDisposable
{
    /// <summary>The lock file's name inside the output folder.</summary>
    public const string FileName = ".sharpvision.lock";

    readonly FileStream stream;

    /// <summary>The lock file.</summary>
    public string LockFile { get; }

    OutputFolderLock(FileStream stream, string lockFile)
    {
        this.stream = stream;
        LockFile = lockFile;
    }

    /// <summary>Creates <paramref name="folder"/> if needed and locks it for this process until disposed.</summary>
    /// <exception cref="OutputFolderLockedException">Another run (this process or another) holds the lock.</exception>
    public static OutputFolderLock Acquire(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var full = Path.GetFullPath(folder);
        Directory.CreateDirectory(full);
        var path = Path.Combine(full, FileName);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            throw new OutputFolderLockedException(full, path, e);
        }
        // Who holds it, for a person looking at the folder (the lock itself is the OS's, not this text).
        stream.SetLength(0);
        using (var writer = new StreamWriter(stream, leaveOpen: true))
            writer.Write($"pid {Environment.ProcessId}, since {DateTime.UtcNow:O}\n");
        stream.Flush();
        return new OutputFolderLock(stream, path);
    }

    /// <summary>Releases the lock (the file stays; it is free to take).</summary>
    public void Dispose() => stream.Dispose();
}
