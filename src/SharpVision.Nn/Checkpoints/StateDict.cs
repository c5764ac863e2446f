using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;

namespace SharpVision.Nn.Checkpoints;

/// <summary>
/// Reading and writing state_dicts: safetensors (diffusers' format) and PyTorch <c>torch.save</c>
/// zip files (segment-anything's official checkpoints); read by the validating <see cref="SafetensorsReader"/> and
/// <see cref="TorchSaveReader"/> (files may come from strangers), written through TorchSharp.PyBridge; strict loading
/// into modules whose parameter names are the reference's keys.
/// </summary>
public static class StateDict
{
    /// <summary>Reads a <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file (see <see cref="SafetensorsReader"/>).</exception>
    public static Dictionary<string, Tensor> LoadSafetensors(string path)
    {
        RequireFile(path);
        using var f = File.OpenRead(path);
        return SafetensorsReader.Read(f, path);
    }

    /// <summary>Reads a PyTorch <c>torch.save</c>d state_dict (<c>.pth</c>/<c>.pt</c>, zip format) with <see cref="TorchSaveReader"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a torch.save zip holding a dict of tensors.</exception>
    public static Dictionary<string, Tensor> LoadPyTorch(string path)
    {
        RequireFile(path);
        using var f = File.OpenRead(path);
        return TorchSaveReader.Read(f, path);
    }

    /// <summary>Reads a state_dict, choosing the format by the file's first bytes (zip: torch.save; else safetensors).</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        RequireFile(path);
        Span<byte> head = stackalloc byte[4];
        using (var f = File.OpenRead(path))
            if (f.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4) throw new InvalidDataException($"{path}: {f.Length} bytes is too short to be a checkpoint");
        bool zip = head[0] == (byte)'P' && head[1] == (byte)'K';
        return zip ? LoadPyTorch(path) : LoadSafetensors(path);
    }

    /// <summary>Writes a state_dict as safetensors, atomically (temporary file, then rename).</summary>
    /// <param name="metadata">String pairs for the header's <c>__metadata__</c> (what the file holds), or null for none.</param>
    public static void SaveSafetensors(IReadOnlyDictionary<string, Tensor> stateDict, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var contiguous = stateDict.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
        if (metadata is null)
        {
            AtomicFile.Write(path, s => Safetensors.SaveStateDict(s, contiguous, leaveOpen: true));
            return;
        }
        // The header is JSON after its little-endian u64 length; tensor offsets count from the data after it,
        // so adding __metadata__ to the header leaves the data untouched.
        using var buffer = new MemoryStream();
        Safetensors.SaveStateDict(buffer, contiguous, leaveOpen: true);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.Span));
        var header = JsonNode.Parse(bytes.Span.Slice(8, headerLength))!.AsObject();
        header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        AtomicFile.Write(path, s =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            s.Write(length);
            s.Write(json);
            for (int i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
            s.Write(bytes.Span[(8 + headerLength)..]);
        });
    }

    /// <summary>The <c>__metadata__</c> string pairs of a safetensors file's header (empty when it has none).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file does not start with a safetensors header.</exception>
    public static IReadOnlyDictionary<string, string> ReadSafetensorsMetadata(string path)
    {
        RequireFile(path);
        using var f = File.OpenRead(path);
        Span<byte> length = stackalloc byte[8];
        ulong n = f.Length >= 8 && f.Read(length) == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(length) : ulong.MaxValue;
        if (n > (ulong)(f.Length - 8) || n > 100_000_000) throw new InvalidDataException($"{path} is not a safetensors file (no header)");
        var header = new byte[n];
        f.ReadExactly(header);
        try
        {
            using var doc = JsonDocument.Parse(header);
            if (!doc.RootElement.TryGetProperty("__metadata__", out var meta) || meta.ValueKind != JsonValueKind.Object)
                return new Dictionary<string, string>();
            return meta.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText(), StringComparer.Ordinal);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a safetensors file: its header is not JSON ({e.Message})", e); }
    }

    /// <summary>Writes a state_dict in torch.save's zip format (loadable with <c>torch.load</c>), atomically.</summary>
    public static void SavePyTorch(IReadOnlyDictionary<string, Tensor> stateDict, string path)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var table = new System.Collections.Hashtable();
        foreach (var (k, v) in stateDict) table[k] = v.detach().cpu().contiguous();
        AtomicFile.Write(path, s => PyTorchPickler.PickleStateDict(s, table, leaveOpen: true));
    }

    /// <summary>
    /// Copies <paramref name="stateDict"/> into <paramref name="module"/>'s parameters and buffers,
    /// converting each tensor to the dtype of the module's tensor. Strict (the default) requires the
    /// key sets to be equal; every problem is reported in one <see cref="CheckpointMismatchException"/>.
    /// Nothing is copied unless the whole checkpoint fits.
    /// </summary>
    /// <param name="source">Names the checkpoint in error messages (usually its path).</param>
    /// <exception cref="CheckpointMismatchException">Missing or unexpected keys (strict), or any shape mismatch.</exception>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true, string source = "state_dict")
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stateDict);
        var target = module.state_dict();
        var missing = target.Keys.Where(k => !stateDict.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = stateDict.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var shapes = new List<string>();
        foreach (var (key, have) in target)
        {
            if (!stateDict.TryGetValue(key, out var given)) continue;
            if (!given.shape.SequenceEqual(have.shape))
                shapes.Add($"{key}: checkpoint {Shapes.Format(given.shape)} vs model {Shapes.Format(have.shape)}");
        }
        if (shapes.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new CheckpointMismatchException(source, strict ? missing : [], strict ? unexpected : [], shapes);

        using var noGrad = torch.no_grad();
        foreach (var (key, have) in target)
        {
            if (stateDict.TryGetValue(key, out var given))
                have.copy_(given.to(have.dtype, have.device));
        }
    }

    static void RequireFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint file not found: {path}", path);
    }
}
