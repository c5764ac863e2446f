using System.Buffers.Binary;
using System.Text.Json;

namespace SharpVision.Nn.Checkpoints;

/// <summary>
/// A validating reader of the safetensors format (huggingface/safetensors, docs "Format"): an 8-byte little-endian
/// header length N, N bytes of JSON <c>{name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}</c>, then the
/// data. The whole header is checked against the file before any tensor is allocated, so a hostile file fails with
/// an <see cref="InvalidDataException"/> naming it instead of allocating what its header claims.
/// </summary>
public static class SafetensorsReader
{
    /// <summary>Largest header accepted; the reference implementation's limit.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Most dimensions a tensor may have (libtorch's limit).</summary>
    public const int MaxRank = 64;

    /// <summary>One tensor of a validated header: where its bytes lie in the data section.</summary>
    public sealed record Entry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new(StringComparer.Ordinal)
    {
        ["F16"] = (ScalarType.Float16, 2), ["BF16"] = (ScalarType.BFloat16, 2), ["F32"] = (ScalarType.Float32, 4),
        ["F64"] = (ScalarType.Float64, 8), ["I8"] = (ScalarType.Int8, 1), ["I16"] = (ScalarType.Int16, 2),
        ["I32"] = (ScalarType.Int32, 4), ["I64"] = (ScalarType.Int64, 8), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads every tensor of a safetensors stream (seekable, positioned at its start).</summary>
    /// <param name="source">Names the file in error messages.</param>
    /// <exception cref="InvalidDataException">The header is malformed or does not describe the data exactly.</exception>
    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (entries, dataStart) = ReadHeader(stream, source);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            long bytes = e.End - e.Begin;
            if (bytes > Array.MaxLength)
                throw new InvalidDataException($"{source}: tensor '{e.Name}' holds {bytes} bytes; tensors over {Array.MaxLength} bytes are not supported");
            var buffer = new byte[bytes];
            stream.Position = dataStart + e.Begin;
            stream.ReadExactly(buffer);
            var tensor = torch.empty(e.Shape, e.DType);
            if (bytes > 0) tensor.bytes = buffer;
            result[e.Name] = tensor;
        }
        return result;
    }

    /// <summary>
    /// Reads and validates the header: dtypes known, shapes non-negative, byte counts equal to dtype × shape (overflow
    /// checked), offsets contiguous from 0 to the end of the file with no gap or overlap, metadata string → string.
    /// </summary>
    /// <returns>The entries sorted by offset, and the stream position where the data section starts.</returns>
    /// <exception cref="InvalidDataException">Any of the above does not hold.</exception>
    public static (IReadOnlyList<Entry> Entries, long DataStart) ReadHeader(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long fileLength = stream.Length;
        if (fileLength < 8) throw new InvalidDataException($"{source}: {fileLength} bytes is too short for a safetensors file (8-byte header length)");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
            throw new InvalidDataException($"{source}: header length {headerLength} exceeds the file's remaining {fileLength - 8} bytes");
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{source}: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: safetensors header is not valid JSON ({e.Message})", e); }
        using (doc)
        try
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: safetensors header must be a JSON object; got {doc.RootElement.ValueKind}");
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw new InvalidDataException($"{source}: key '{property.Name}' appears twice in the header");
                if (property.Name == "__metadata__") CheckMetadata(property.Value, source);
                else entries.Add(ParseEntry(property.Name, property.Value, source));
            }
            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long expected = 0;
            foreach (var e in entries)
            {
                if (e.Begin != expected)
                    throw new InvalidDataException(e.Begin < expected
                        ? $"{source}: tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] overlap the previous tensor (ends at {expected})"
                        : $"{source}: gap before tensor '{e.Name}' (data_offsets start at {e.Begin}, previous tensor ends at {expected})");
                expected = e.End;
            }
            if (expected != dataLength)
                throw new InvalidDataException($"{source}: tensors cover {expected} data bytes but the file holds {dataLength} after the header");
            return (entries, dataStart);
        }
        catch (InvalidOperationException e) // a name or string that is not valid UTF-8, found when it is read
        {
            throw new InvalidDataException($"{source}: safetensors header is not valid UTF-8 JSON ({e.Message})", e);
        }
    }

    static void CheckMetadata(JsonElement metadata, string source)
    {
        if (metadata.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: __metadata__ must be an object of strings; got {metadata.ValueKind}");
        foreach (var p in metadata.EnumerateObject())
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{source}: __metadata__ value of '{p.Name}' must be a string; got {p.Value.ValueKind}");
    }

    static Entry ParseEntry(string name, JsonElement value, string source)
    {
        string where = $"{source}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where} must be an object; got {value.ValueKind}");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (var p in value.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dtype" when dtype is null:
                    dtype = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : throw new InvalidDataException($"{where}: dtype must be a string; got {p.Value.ValueKind}");
                    break;
                case "shape" when shape is null: shape = Integers(p.Value, $"{where}: shape"); break;
                case "data_offsets" when offsets is null: offsets = Integers(p.Value, $"{where}: data_offsets"); break;
                default: throw new InvalidDataException($"{where}: unexpected or repeated field '{p.Name}' (allowed: dtype, shape, data_offsets)");
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw new InvalidDataException($"{where} needs dtype, shape and data_offsets");
        if (!DTypes.TryGetValue(dtype, out var type))
            throw new InvalidDataException($"{where}: unsupported dtype '{dtype}'; allowed: {string.Join(", ", DTypes.Keys)}");
        if (shape.Length > MaxRank) throw new InvalidDataException($"{where}: {shape.Length} dimensions; at most {MaxRank} are supported");
        if (offsets.Length != 2) throw new InvalidDataException($"{where}: data_offsets must be [begin, end]; got {offsets.Length} numbers");
        if (offsets[1] < offsets[0]) throw new InvalidDataException($"{where}: data_offsets end {offsets[1]} is before begin {offsets[0]}");
        long bytes = type.Size;
        try
        {
            foreach (var d in shape) bytes = checked(bytes * d);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{where}: shape {Shapes.Format(shape)} of {dtype} overflows a 64-bit byte count");
        }
        if (bytes != offsets[1] - offsets[0])
            throw new InvalidDataException($"{where}: shape {Shapes.Format(shape)} of {dtype} needs {bytes} bytes but data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}");
        return new Entry(name, type.Type, shape, offsets[0], offsets[1]);
    }

    /// <summary>A JSON array of non-negative 64-bit integers.</summary>
    static long[] Integers(JsonElement array, string what)
    {
        if (array.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{what} must be an array of integers; got {array.ValueKind}");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
                throw new InvalidDataException($"{what} must hold non-negative 64-bit integers; got {item.GetRawText()}");
            result[i++] = v;
        }
        return result;
    }
}
