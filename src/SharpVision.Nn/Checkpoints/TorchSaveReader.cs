using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SharpVision.Nn.Checkpoints;

/// <summary>
/// A restricted reader of <c>torch.save</c> zip files holding a state_dict: <c>PREFIX/data.pkl</c> (a pickle) and one
/// <c>PREFIX/data/KEY</c> entry per storage. Like PyTorch's <c>weights_only=True</c> unpickler it runs only the pickle
/// opcodes a state_dict uses and resolves only the globals that rebuild tensors (<c>collections.OrderedDict</c>,
/// <c>torch._utils._rebuild_tensor[_v2]</c>, <c>torch._utils._rebuild_parameter</c>, <c>torch.*Storage</c>); any
/// other global fails. Every length is checked against the bytes present before anything is allocated.
/// </summary>
public static class TorchSaveReader
{
    /// <summary>Largest <c>data.pkl</c> accepted (a state_dict's pickle is kilobytes; this is generous).</summary>
    public const long MaxPickleBytes = 256 << 20;

    // Deflate cannot expand data by more than about 1032:1, so an entry claiming more than this many bytes per byte of
    // the file is lying (torch.save itself stores entries uncompressed).
    const long MaxExpansion = 1032;

    static readonly Dictionary<string, ScalarType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["DoubleStorage"] = ScalarType.Float64, ["FloatStorage"] = ScalarType.Float32, ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16, ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16, ["CharStorage"] = ScalarType.Int8, ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    /// <summary>Reads a torch.save zip whose pickle is a dict of tensors.</summary>
    /// <param name="stream">Seekable stream of the whole file.</param>
    /// <param name="source">Names the file in error messages.</param>
    /// <exception cref="InvalidDataException">Not a zip, no data.pkl, a pickle a state_dict would not contain, or storages that do not match it.</exception>
    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var pickles = archive.Entries.Where(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count != 1)
                throw new InvalidDataException($"{source}: a torch.save zip has one data.pkl; found {pickles.Count}");
            string prefix = pickles[0].FullName[..^"data.pkl".Length];
            var pickle = ReadEntry(pickles[0], MaxPickleBytes, stream.Length, source);
            var storages = new Storages(archive, prefix, stream.Length, source);
            var root = new Unpickler(pickle, storages, source).Load();
            if (root is not PyDict dict) throw new InvalidDataException($"{source}: the pickle holds a {Describe(root)}, not a dict of tensors");
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (key, value) in dict)
            {
                if (key is not string name) throw new InvalidDataException($"{source}: state_dict key {Describe(key)} is not a string");
                result[name] = value as Tensor ?? throw new InvalidDataException($"{source}: entry '{name}' is not a tensor ({Describe(value)})");
            }
            return result;
        }
        // The zip layer's own errors (bad central directory, short entries) do not know the file's name.
        catch (Exception e) when (e is IOException or NotSupportedException or InvalidDataException && !e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: not a readable torch.save zip ({e.Message})", e);
        }
    }

    static byte[] ReadEntry(ZipArchiveEntry entry, long limit, long fileLength, string source)
    {
        if (entry.Length > limit || entry.Length > MaxExpansion * fileLength || entry.Length > Array.MaxLength)
            throw new InvalidDataException($"{source}: zip entry {entry.FullName} claims {entry.Length} bytes, more than the file can hold or than {limit} allowed");
        var bytes = new byte[entry.Length];
        using var s = entry.Open();
        s.ReadExactly(bytes);
        return bytes;
    }

    static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"string '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        _ => value.GetType().Name,
    };

    /// <summary>A pickled dict (insertion-ordered enough for a state_dict: keys are unique and kept in order).</summary>
    sealed class PyDict : List<(object Key, object? Value)>
    {
        readonly Dictionary<object, int> index = [];

        public void Set(object? key, object? value, string source)
        {
            if (key is not (string or long or bool)) throw new InvalidDataException($"{source}: dict key {Describe(key)} is not a string or int");
            if (index.TryGetValue(key, out int i)) this[i] = (key, value);
            else { index[key] = Count; Add((key, value)); }
        }
    }

    sealed record Global(string Module, string Name);

    /// <summary>A storage named by a persistent id: <c>('storage', torch.XStorage, key, location, numel)</c>.</summary>
    sealed record StorageRef(string Key, ScalarType DType, long Numel);

    /// <summary>Storage entries of the archive, each read once, when first used, and only if its length matches the pickle's claim.</summary>
    sealed class Storages(ZipArchive archive, string prefix, long fileLength, string source)
    {
        readonly Dictionary<string, Tensor> loaded = new(StringComparer.Ordinal);

        public Tensor Get(StorageRef r)
        {
            if (loaded.TryGetValue(r.Key, out var done))
            {
                if (done.dtype != r.DType || done.shape[0] != r.Numel)
                    throw new InvalidDataException($"{source}: storage '{r.Key}' is named with two different types or sizes");
                return done;
            }
            var entry = archive.GetEntry(prefix + "data/" + r.Key)
                        ?? throw new InvalidDataException($"{source}: the pickle names storage '{r.Key}' but the zip has no {prefix}data/{r.Key}");
            long bytes = checked(r.Numel * ElementSize(r.DType));
            if (entry.Length != bytes)
                throw new InvalidDataException($"{source}: storage '{r.Key}' of {r.Numel} {r.DType} needs {bytes} bytes; the zip entry holds {entry.Length}");
            var data = ReadEntry(entry, Array.MaxLength, fileLength, source);
            var t = torch.empty(r.Numel, r.DType);
            if (bytes > 0) t.bytes = data;
            loaded[r.Key] = t;
            return t;
        }

        static long ElementSize(ScalarType t) => t switch
        {
            ScalarType.Float64 or ScalarType.Int64 => 8,
            ScalarType.Float32 or ScalarType.Int32 => 4,
            ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
            _ => 1,
        };
    }

    /// <summary>
    /// The pickle machine (CPython Lib/pickle.py, protocols 2–4), reduced to the opcodes torch.save and
    /// TorchSharp.PyBridge write for a state_dict. Values are string, long, double, bool, null, tuples (object?[]),
    /// lists, <see cref="PyDict"/>, <see cref="Global"/>, <see cref="StorageRef"/> and tensors.
    /// </summary>
    sealed class Unpickler(byte[] data, Storages storages, string source)
    {
        readonly List<object?> stack = [];
        readonly Stack<int> marks = new();
        readonly Dictionary<long, object?> memo = [];
        int pos;

        public object? Load()
        {
            while (true)
            {
                int at = pos;
                byte op = Byte();
                switch (op)
                {
                    case 0x80: Byte(); break;                                   // PROTO
                    case 0x95: Bytes(8); break;                                 // FRAME (length ignored: data is in memory)
                    case (byte)'.':                                             // STOP
                        if (stack.Count != 1) throw Bad($"STOP with {stack.Count} values on the stack");
                        return stack[0];
                    case (byte)'(': marks.Push(stack.Count); break;             // MARK
                    case (byte)'}': stack.Add(new PyDict()); break;             // EMPTY_DICT
                    case (byte)']': stack.Add(new List<object?>()); break;      // EMPTY_LIST
                    case (byte)')': stack.Add(Array.Empty<object?>()); break;   // EMPTY_TUPLE
                    case (byte)'N': stack.Add(null); break;                     // NONE
                    case 0x88: stack.Add(true); break;                          // NEWTRUE
                    case 0x89: stack.Add(false); break;                         // NEWFALSE
                    case (byte)'K': stack.Add((long)Byte()); break;             // BININT1
                    case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break; // BININT2
                    case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;  // BININT
                    case 0x8a: stack.Add(Long(Byte())); break;                  // LONG1
                    case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break;          // BINFLOAT
                    case (byte)'X': stack.Add(Utf8(Length(4))); break;         // BINUNICODE
                    case 0x8c: stack.Add(Utf8(Byte())); break;                  // SHORT_BINUNICODE
                    case 0x8d: stack.Add(Utf8(Length(8))); break;              // BINUNICODE8
                    case (byte)'U': stack.Add(Latin1(Byte())); break;           // SHORT_BINSTRING
                    case (byte)'T': stack.Add(Latin1(Length(4))); break;       // BINSTRING
                    case (byte)'t': stack.Add(PopMark().ToArray()); break;      // TUPLE
                    case 0x85: stack.Add(PopN(1)); break;                       // TUPLE1
                    case 0x86: stack.Add(PopN(2)); break;                       // TUPLE2
                    case 0x87: stack.Add(PopN(3)); break;                       // TUPLE3
                    case (byte)'a': Top<List<object?>>(1, "APPEND").Add(Pop()); break;
                    case (byte)'e': { var items = PopMark(); Top<List<object?>>(1, "APPENDS").AddRange(items); break; }
                    case (byte)'s': { var v = Pop(); var k = Pop(); Top<PyDict>(1, "SETITEM").Set(k, v, source); break; }
                    case (byte)'u':                                             // SETITEMS
                    {
                        var items = PopMark();
                        if (items.Count % 2 != 0) throw Bad("SETITEMS with an odd number of values");
                        var dict = Top<PyDict>(1, "SETITEMS");
                        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1], source);
                        break;
                    }
                    case (byte)'q': memo[Byte()] = Peek(); break;               // BINPUT
                    case (byte)'r': memo[Length(4)] = Peek(); break;            // LONG_BINPUT
                    case 0x94: memo[memo.Count] = Peek(); break;                // MEMOIZE
                    case (byte)'h': stack.Add(Memo(Byte())); break;             // BINGET
                    case (byte)'j': stack.Add(Memo(Length(4))); break;          // LONG_BINGET
                    case (byte)'c': stack.Add(Resolve(Line(), Line())); break;  // GLOBAL
                    case 0x93:                                                  // STACK_GLOBAL
                    {
                        var name = Pop() as string; var module = Pop() as string;
                        if (module is null || name is null) throw Bad("STACK_GLOBAL needs two strings");
                        stack.Add(Resolve(module, name));
                        break;
                    }
                    case (byte)'Q': stack.Add(PersistentLoad(Pop())); break;    // BINPERSID
                    case (byte)'R':                                             // REDUCE
                    {
                        var args = Pop() as object?[] ?? throw Bad("REDUCE needs an argument tuple");
                        var callable = Pop() as Global ?? throw Bad("REDUCE needs a global to call");
                        stack.Add(Call(callable, args));
                        break;
                    }
                    case (byte)'b':                                             // BUILD: OrderedDict's state (its _metadata) is not needed
                    {
                        var state = Pop();
                        if (Peek() is not PyDict || state is not (PyDict or null or object?[]))
                            throw Bad($"BUILD of a {Describe(Peek())} with a {Describe(state)}");
                        break;
                    }
                    default: throw Bad($"pickle opcode 0x{op:X2} at byte {at} is not one a state_dict uses");
                }
            }
        }

        InvalidDataException Bad(string what) => new($"{source}: data.pkl: {what}");

        byte Byte() => pos < data.Length ? data[pos++] : throw Bad("ends in the middle of an opcode");

        ReadOnlySpan<byte> Bytes(long n)
        {
            if (n < 0 || n > data.Length - pos) throw Bad($"a length of {n} runs past the end ({data.Length - pos} bytes left)");
            var span = data.AsSpan(pos, (int)n);
            pos += (int)n;
            return span;
        }

        /// <summary>An unsigned little-endian length or index of 4 or 8 bytes.</summary>
        long Length(int size)
        {
            var b = Bytes(size);
            ulong v = size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);
            return v > int.MaxValue ? throw Bad($"length or index {v} is too large") : (long)v;
        }

        object Long(int n)
        {
            if (n > 8) throw Bad($"a {n}-byte integer does not fit 64 bits");
            var b = Bytes(n);
            long v = 0;
            for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
            if (n is > 0 and < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n); // two's complement sign
            return v;
        }

        string Utf8(long n)
        {
            var b = Bytes(n);
            try { return new UTF8Encoding(false, true).GetString(b); }
            catch (DecoderFallbackException) { throw Bad("a string is not valid UTF-8"); }
        }

        string Latin1(long n) => Encoding.Latin1.GetString(Bytes(n));

        string Line()
        {
            int end = Array.IndexOf(data, (byte)'\n', pos);
            if (end < 0) throw Bad("GLOBAL name is not terminated");
            var s = Encoding.ASCII.GetString(data, pos, end - pos);
            pos = end + 1;
            return s;
        }

        object? Pop()
        {
            if (stack.Count == 0 || (marks.Count > 0 && stack.Count <= marks.Peek())) throw Bad("stack underflow");
            var v = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return v;
        }

        object? Peek() => stack.Count > 0 ? stack[^1] : throw Bad("stack underflow");

        T Top<T>(int depth, string op) where T : class =>
            stack.Count >= depth ? stack[^depth] as T ?? throw Bad($"{op} on a {Describe(stack[^depth])}") : throw Bad($"{op} on an empty stack");

        object?[] PopN(int n)
        {
            var items = new object?[n];
            for (int i = n - 1; i >= 0; i--) items[i] = Pop();
            return items;
        }

        List<object?> PopMark()
        {
            if (marks.Count == 0) throw Bad("no MARK to pop to");
            int m = marks.Pop();
            var items = stack.GetRange(m, stack.Count - m);
            stack.RemoveRange(m, stack.Count - m);
            return items;
        }

        object? Memo(long index) => memo.TryGetValue(index, out var v) ? v : throw Bad($"memo {index} was never stored");

        object Resolve(string module, string name) => (module, name) switch
        {
            ("collections", "OrderedDict") or ("torch._utils", "_rebuild_tensor" or "_rebuild_tensor_v2" or "_rebuild_parameter") => new Global(module, name),
            ("torch", _) when StorageTypes.ContainsKey(name) => new Global(module, name),
            _ => throw Bad($"refusing global '{module}.{name}': a state_dict needs only OrderedDict, tensor rebuilding and storage types"),
        };

        object PersistentLoad(object? pid)
        {
            if (pid is not object?[] { Length: 5 } t || t[0] is not "storage" || t[1] is not Global { Module: "torch" } type
                || t[2] is not string key || t[4] is not long numel || numel < 0)
                throw Bad("persistent id is not ('storage', torch.XStorage, key, location, numel)");
            return new StorageRef(key, StorageTypes[type.Name], numel);
        }

        object? Call(Global g, object?[] args)
        {
            switch (g.Name)
            {
                case "OrderedDict" when args.Length == 0: return new PyDict();
                case "OrderedDict" when args.Length == 1 && args[0] is IEnumerable<object?> pairs: // OrderedDict([(k, v), …])
                {
                    var dict = new PyDict();
                    foreach (var pair in pairs)
                        if (pair is object?[] { Length: 2 } kv) dict.Set(kv[0], kv[1], source);
                        else throw Bad("OrderedDict needs (key, value) pairs");
                    return dict;
                }
                case "_rebuild_tensor" or "_rebuild_tensor_v2" when args.Length >= 4:
                    return Rebuild(args[0], args[1], args[2], args[3]);
                case "_rebuild_parameter" when args.Length >= 1 && args[0] is Tensor data: return data;
                default: throw Bad($"{g.Module}.{g.Name} called with {args.Length} arguments of the wrong kind");
            }
        }

        /// <summary><c>torch._utils._rebuild_tensor_v2</c>: a strided view of a storage, checked to lie inside it.</summary>
        Tensor Rebuild(object? storage, object? offsetArg, object? sizeArg, object? strideArg)
        {
            if (storage is not StorageRef r || offsetArg is not long offset || offset < 0)
                throw Bad("_rebuild_tensor needs a storage and a non-negative offset");
            var size = Longs(sizeArg, "size");
            var stride = Longs(strideArg, "stride");
            if (size.Length != stride.Length || size.Length > SafetensorsReader.MaxRank)
                throw Bad($"tensor size {Shapes.Format(size)} and stride {Shapes.Format(stride)} do not match");
            long extent = offset, numel = 1;
            try
            {
                for (int i = 0; i < size.Length; i++)
                {
                    numel = checked(numel * size[i]);
                    if (size[i] > 0) extent = checked(extent + (size[i] - 1) * stride[i]);
                }
            }
            catch (OverflowException) { throw Bad($"tensor size {Shapes.Format(size)} with stride {Shapes.Format(stride)} overflows"); }
            // A view may not reach past its storage, nor be larger than it (so materialising it costs no more than the file).
            if ((numel > 0 && extent >= r.Numel) || offset > r.Numel || numel > r.Numel)
                throw Bad($"tensor of size {Shapes.Format(size)}, stride {Shapes.Format(stride)}, offset {offset} does not fit its storage '{r.Key}' of {r.Numel} elements");
            return storages.Get(r).as_strided(size, stride, offset);
        }

        long[] Longs(object? value, string what) =>
            value is object?[] items && items.All(i => i is long v && v >= 0)
                ? items.Select(i => (long)i!).ToArray()
                : throw Bad($"tensor {what} must be a tuple of non-negative ints");
    }
}
