using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Diffusion.Training;

/// <summary>
/// The checkpoint layout the diffusion trainers share: folders <c>checkpoint-NNNNNNNN</c> under a root, each written in a
/// temporary folder that is renamed once its <c>checkpoint-complete</c> marker is in, so a run killed mid-save keeps the
/// previous checkpoint; the newest N complete ones are kept. Also the counter-based seeds of their random draws.
/// </summary>
internal static class CheckpointFolders
{
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
    public static (string Directory, JsonObject State) LoadLatest(string root)
    {
        var dir = Latest(root) ?? throw new FileNotFoundException($"no complete checkpoint ({Prefix}*/{CompleteMarker}) under {root}", root);
        var path = Path.Combine(dir, StateFile);
        var state = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
        return (dir, state);
    }

    /// <summary>
    /// Writes <c>checkpoint-{step}</c>: <paramref name="write"/> fills a temporary folder, then the state file (with step,
    /// seed, RNG scheme and time added) and the marker go in, the folder is renamed, older checkpoints beyond
    /// <paramref name="keep"/> and stale temporary folders are deleted.
    /// </summary>
    /// <returns>The checkpoint folder.</returns>
    public static string Save(string root, long step, long seed, int keep, JsonObject state, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Directory.CreateDirectory(root);
        var final = Path.Combine(root, $"{Prefix}{step:D8}");
        var temp = Path.Combine(root, $".tmp-{Prefix}{step:D8}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        write(temp);
        state["step"] = step;
        state["seed"] = seed;
        state["rng"] = "counter-based: step n draws from torch.Generator seeds derived from (seed, n) by SplitMix64; no state beyond the step";
        state["written_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        AtomicFile.WriteAllText(Path.Combine(temp, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(temp, CompleteMarker), $"step {step}\n");
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);

        var complete = Complete(root);
        foreach (var old in complete.Take(Math.Max(0, complete.Count - Math.Max(1, keep))))
            Directory.Delete(old.Path, recursive: true);
        foreach (var stale in Directory.GetDirectories(root, $".tmp-{Prefix}*"))
            Directory.Delete(stale, recursive: true);
        return final;
    }

    /// <summary>SplitMix64 of (seed, stream, counter): independent generator seeds per purpose and step.</summary>
    public static ulong Mix(long seed, int stream, long counter)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)stream * 0xBF58476D1CE4E5B9UL + (ulong)counter * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
