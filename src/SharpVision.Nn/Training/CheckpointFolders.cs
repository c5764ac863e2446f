using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Nn.Training;

/// <summary>
/// The one checkpoint format of every trainer: folders <c>checkpoint-NNNNNNNN</c> under a root, each written in a
/// temporary folder that is renamed once its <c>checkpoint-complete</c> marker is in, so a run killed mid-save keeps the
/// previous checkpoint; the newest N complete ones are kept. Each holds <c>trainer_state.json</c> (step, seed, options
/// and what the trainer needs to continue) beside the trainer's weight and optimizer files.
/// </summary>
public static class CheckpointFolders
{
    /// <summary>Names inside a checkpoint root and folder.</summary>
    public const string Prefix = "checkpoint-", CompleteMarker = "checkpoint-complete", StateFile = "trainer_state.json", OptimizerFile = "optimizer.bin";

    /// <summary>Complete checkpoints under <paramref name="root"/>, oldest first.</summary>
    public static List<(long Step, string Path)> Complete(string root) =>
        !Directory.Exists(root) ? [] :
        Directory.GetDirectories(root, Prefix + "*")
            .Select(d => (Name: Path.GetFileName(d), Path: d))
            .Where(d => long.TryParse(d.Name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _)
                        && File.Exists(Path.Combine(d.Path, CompleteMarker)))
            .Select(d => (long.Parse(d.Name.AsSpan(Prefix.Length), CultureInfo.InvariantCulture), d.Path))
            .OrderBy(d => d.Item1)
            .ToList();

    /// <summary>The newest complete checkpoint folder, or null.</summary>
    public static string? Latest(string root) => Complete(root).LastOrDefault().Path;

    /// <summary>The newest complete checkpoint and its parsed trainer_state.json.</summary>
    /// <exception cref="FileNotFoundException">No complete checkpoint under <paramref name="root"/>.</exception>
    /// <exception cref="InvalidDataException">Its trainer_state.json is not a JSON object.</exception>
    public static (string Directory, JsonObject State) LoadLatest(string root) => Load(Resolve(root));

    /// <summary>
    /// A checkpoint folder from a path the user gave: the folder itself when it holds the marker, otherwise the newest
    /// complete checkpoint under it or under its <c>checkpoints/</c> subfolder (a run's output folder).
    /// </summary>
    /// <exception cref="FileNotFoundException">No complete checkpoint there.</exception>
    public static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(Path.Combine(path, CompleteMarker))) return path;
        return Latest(path) ?? Latest(Path.Combine(path, "checkpoints"))
            ?? throw new FileNotFoundException($"no complete checkpoint ({Prefix}*/{CompleteMarker}) under {path}", path);
    }

    /// <summary>A checkpoint folder and its parsed trainer_state.json.</summary>
    /// <exception cref="FileNotFoundException">The folder holds no trainer_state.json.</exception>
    /// <exception cref="InvalidDataException">It is not a JSON object.</exception>
    public static (string Directory, JsonObject State) Load(string directory)
    {
        var path = Path.Combine(directory, StateFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"not a checkpoint: {path} not found", path);
        try
        {
            var state = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
            return (directory, state);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>The step recorded in a checkpoint's state.</summary>
    public static long StepOf(JsonObject state) => state["step"]?.GetValue<long>() ?? throw new InvalidDataException($"{StateFile}: no step");

    /// <summary>
    /// Writes <c>checkpoint-{step}</c>: <paramref name="write"/> fills a temporary folder, then the state file (with step,
    /// seed and time added) and the marker go in, the folder is renamed, older checkpoints beyond
    /// <paramref name="keep"/> and stale temporary folders are deleted. A failed write (a full disk) deletes its
    /// temporary folder and leaves the earlier checkpoints as they were.
    /// </summary>
    /// <returns>The checkpoint folder.</returns>
    /// <exception cref="IOException">The write failed; on a full disk the message names the root and says so.</exception>
    public static string Save(string root, long step, long seed, int keep, JsonObject state, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(write);
        Directory.CreateDirectory(root);
        var final = Path.Combine(root, $"{Prefix}{step:D8}");
        var temp = Path.Combine(root, $".tmp-{Prefix}{step:D8}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temp);
            write(temp);
            FaultHold.InCheckpointWrite(step, temp);
            state["step"] = step;
            state["seed"] = seed;
            state["written_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
            AtomicFile.WriteAllText(Path.Combine(temp, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            AtomicFile.WriteAllText(Path.Combine(temp, CompleteMarker), $"step {step}\n");
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            TryDelete(temp);
            throw new IOException($"no space left on the device writing {final}: {e.Message}; the previous checkpoint " +
                $"{Latest(root) ?? "(none)"} is intact — free space, then --resume", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        if (Directory.Exists(final)) Discard(root, final);
        Directory.Move(temp, final);

        var complete = Complete(root);
        foreach (var old in complete.Take(Math.Max(0, complete.Count - Math.Max(1, keep))))
            Discard(root, old.Path);
        foreach (var stale in Directory.GetDirectories(root, $".tmp-{Prefix}*"))
            Directory.Delete(stale, recursive: true);
        return final;
    }

    /// <summary>Renames a checkpoint out of the way (atomic) before deleting it file by file, so a run killed mid-delete
    /// leaves a temporary folder that is ignored, never a checkpoint with files missing.</summary>
    static void Discard(string root, string checkpoint)
    {
        var doomed = Path.Combine(root, $".tmp-{Path.GetFileName(checkpoint)}-deleted-{Guid.NewGuid():N}");
        Directory.Move(checkpoint, doomed);
        Directory.Delete(doomed, recursive: true);
    }

    /// <summary>Whether <paramref name="e"/> reports a full disk (ENOSPC on Unix, ERROR_DISK_FULL/ERROR_HANDLE_DISK_FULL on Windows).</summary>
    public static bool IsDiskFull(Exception e) => e is IOException &&
        (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 0x70 or 0x27 : e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase));

    static void TryDelete(string directory)
    {
        try { if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true); }
        catch (IOException) { } // best effort: a stale temporary folder is ignored and removed by the next save
    }
}
