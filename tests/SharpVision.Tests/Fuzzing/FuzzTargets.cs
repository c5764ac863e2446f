using System.Buffers.Binary;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Data;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using SkiaSharp;
using TorchSharp;

namespace SharpVision.Tests.Fuzzing;

/// <summary>The readers of files users download from strangers, each with its seeds and structure-aware mutations.</summary>
public static partial class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("safetensors", "fuzz.safetensors", SafetensorsSeeds,
            input => Dispose(SafetensorsReader.Read(new MemoryStream(input), "fuzz.safetensors")),
            [typeof(InvalidDataException)], MutateSafetensors, 5000),
        new("torch-save", "fuzz.pth", TorchSaveSeeds,
            input => Dispose(TorchSaveReader.Read(new MemoryStream(input), "fuzz.pth")),
            [typeof(InvalidDataException)], MutateZip, 4000),
        new("idx", "fuzz.idx", () => [Idx(10), Idx(2, 3, 4)],
            input => IdxFile.ReadBytes(new MemoryStream(input), "fuzz.idx"),
            [typeof(IdxFormatException)], (m, input, others) => m.MutateBytes(input, others), 3000),
        new("idx-gzip", "fuzz.idx.gz", () => [Gzip(Idx(10)), Gzip(Idx(2, 3, 4))],
            input => IdxFile.ReadBytes(new MemoryStream(input), "fuzz.idx.gz"),
            [typeof(IdxFormatException)], MutateGzip, 2000),
        new("unet2d-config", "fuzz/config.json", () => [Fixture("unet", "unet2d_small", "config.json")],
            input => RoundTrip(UNet2DModelConfig.FromJson(Encoding.UTF8.GetString(input), "fuzz/config.json"), c => c.ToJson()),
            [typeof(InvalidDataException)], (m, input, others) => m.MutateJsonText(input, others), 3000),
        new("autoencoderkl-config", "fuzz/config.json", () => [Fixture("vae", "autoencoder_kl_small", "config.json")],
            input => RoundTrip(AutoencoderKLConfig.FromJson(Encoding.UTF8.GetString(input), "fuzz/config.json"), c => c.ToJson()),
            [typeof(InvalidDataException)], (m, input, others) => m.MutateJsonText(input, others), 3000),
        new("scheduler-config", "fuzz/scheduler_config.json",
            () => [Fixture("schedulers", "lcm_4", "scheduler_config.json"), Fixture("schedulers", "pndm_sd_plms_20", "scheduler_config.json")],
            input => RoundTrip(SchedulerFactory.ReadConfig(Encoding.UTF8.GetString(input), source: "fuzz/scheduler_config.json"), c => c.ToJson()),
            [typeof(InvalidDataException), typeof(ArgumentException)], (m, input, others) => m.MutateJsonText(input, others), 3000),
        new("sam-config", "sam_config.json", () => [Fixture("sam", "sam_tiny_point", "sam_config.json"), Encoding.UTF8.GetBytes(SamConfig.VitT.ToJson())],
            input => RoundTrip(SamConfig.FromJson(Encoding.UTF8.GetString(input)), c => c.ToJson()),
            [typeof(InvalidDataException)], (m, input, others) => m.MutateJsonText(input, others), 3000)
        {
            MessageNamesSource = false, // SamConfig.FromJson takes text, not a file name
        },
        new("image", "fuzz.png", ImageSeeds,
            input => Images.DecodeRgb(SKData.CreateCopy(input), "fuzz.png"),
            [typeof(InvalidDataException)], MutatePng, 3000)
        {
            // The RGB result: any size up to 4096² pixels, beyond that at most 2048 RGBA bytes per file byte.
            AllocationBudget = input => (16L << 20) + 3L * 4096 * 4096 + 2048L * input.Length,
        },
        .. PipelineFolderTargets(),
    ];

    public static FuzzTarget Named(string name) => All.Single(t => t.Name == name);

    static void Dispose(Dictionary<string, torch.Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }

    static readonly NullabilityInfoContext Nullability = new();

    /// <summary>
    /// A config that reads must be usable: every property its record declares non-null is non-null (else the model
    /// built from it fails later with a NullReferenceException), and it writes back to JSON.
    /// </summary>
    static void RoundTrip<T>(T config, Func<T, string> toJson) where T : notnull
    {
        foreach (var p in config.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (!p.PropertyType.IsValueType && p.GetIndexParameters().Length == 0
                && Nullability.Create(p).ReadState == NullabilityState.NotNull && p.GetValue(config) is null)
                throw new NullReferenceException($"{config.GetType().Name}.{p.Name} read as null although the record declares it non-null");
        toJson(config);
    }

    static byte[] Fixture(params string[] parts) => File.ReadAllBytes(FixtureRoot.Combine(parts));

    // ---- safetensors -------------------------------------------------------------------------------------------

    static IReadOnlyList<byte[]> SafetensorsSeeds()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sv-fuzz-{Environment.ProcessId}.safetensors");
        try
        {
            StateDict.SaveSafetensors(new Dictionary<string, torch.Tensor>
            {
                ["w"] = torch.arange(6, torch.float32).reshape(2, 3),
                ["h"] = torch.ones(2, torch.float16),
                ["i"] = torch.arange(3, torch.int64),
                ["b"] = torch.tensor(new[] { true, false }),
                ["s"] = torch.tensor((byte)7),
                ["e"] = torch.zeros([0, 4], torch.float32),
            }, path);
            var withMetadata = Safetensors("{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
            return [File.ReadAllBytes(path), withMetadata, Fixture("nn", "ce_extreme_logits", "tensors.safetensors")];
        }
        finally { File.Delete(path); }
    }

    /// <summary>A safetensors file with the given header and <paramref name="dataBytes"/> zero bytes of data.</summary>
    public static byte[] Safetensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        return file;
    }

    /// <summary>Half the time edits the header JSON and rewrites the length so the edit reaches the validation.</summary>
    static byte[] MutateSafetensors(Mutator m, byte[] input, IReadOnlyList<byte[]> others)
    {
        if (m.Next(2) == 0 || input.Length < 8) return m.MutateBytes(input, others);
        long n = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(input), (ulong)(input.Length - 8));
        var mutated = m.MutateJson(Encoding.UTF8.GetString(input, 8, (int)n));
        if (mutated is null) return m.MutateBytes(input, others);
        var json = Encoding.UTF8.GetBytes(mutated);
        var data = input.AsSpan(8 + (int)n);
        var file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.CopyTo(file.AsSpan(8 + json.Length));
        return file;
    }

    // ---- torch.save zip ----------------------------------------------------------------------------------------

    static IReadOnlyList<byte[]> TorchSaveSeeds()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sv-fuzz-{Environment.ProcessId}.pth");
        try
        {
            StateDict.SavePyTorch(new Dictionary<string, torch.Tensor>
            {
                ["w"] = torch.arange(6, torch.float32).reshape(2, 3),
                ["i"] = torch.arange(3, torch.int64),
            }, path);
            return [File.ReadAllBytes(path), TorchSaveLayout()];
        }
        finally { File.Delete(path); }
    }

    /// <summary>
    /// A file laid out as torch.save (protocol 2) writes one: an OrderedDict of two tensors sharing storage "0",
    /// with BINPUT memo entries and the OrderedDict's _metadata state.
    /// </summary>
    public static byte[] TorchSaveLayout(string pickleOverride = "")
    {
        var p = new List<byte> { 0x80, 2 };
        void Op(char c) => p.Add((byte)c);
        void Text(string s) { Op('X'); var b = Encoding.UTF8.GetBytes(s); p.AddRange(BitConverter.GetBytes(b.Length)); p.AddRange(b); }
        void Global(string module, string name) { Op('c'); p.AddRange(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }
        void Int(byte v) { Op('K'); p.Add(v); }
        void Tensor(string key, byte offset, byte[] size, byte[] stride)
        {
            Text(key);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('('); Text("storage"); Global("torch", "FloatStorage"); Text("0"); Text("cpu"); Int(6); Op('t');
            Op('Q');
            Int(offset);
            Op('('); foreach (var s in size) Int(s); Op('t');
            Op('('); foreach (var s in stride) Int(s); Op('t');
            p.Add(0x89);
            Global("collections", "OrderedDict"); Op(')'); Op('R');
            Op('t'); Op('R');
        }
        Global("collections", "OrderedDict"); Op('q'); p.Add(0); Op(')'); Op('R'); Op('q'); p.Add(1);
        Op('(');
        Tensor("weight", 0, [2, 2], [2, 1]);
        Tensor("bias", 4, [2], [1]);
        Op('u');
        Op('}'); Text("_metadata"); Global("collections", "OrderedDict"); Op(')'); Op('R'); Op('s'); Op('b');
        Op('.');
        var pickle = pickleOverride.Length > 0 ? Encoding.Latin1.GetBytes(pickleOverride) : p.ToArray();
        var storage = new byte[24];
        for (int i = 0; i < 6; i++) BinaryPrimitives.WriteSingleLittleEndian(storage.AsSpan(4 * i), i);
        return Zip([("archive/data.pkl", pickle), ("archive/data/0", storage), ("archive/version", "3\n"u8.ToArray())]);
    }

    static byte[] Zip(IEnumerable<(string Name, byte[] Data)> entries)
    {
        var m = new MemoryStream();
        using (var zip = new ZipArchive(m, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in entries)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(data);
            }
        return m.ToArray();
    }

    /// <summary>Mostly mutates one entry's content (usually data.pkl) and re-zips, so edits are not just CRC failures.</summary>
    static byte[] MutateZip(Mutator m, byte[] input, IReadOnlyList<byte[]> others)
    {
        if (m.Next(3) == 0) return m.MutateBytes(input, others);
        List<(string Name, byte[] Data)> entries;
        try
        {
            using var zip = new ZipArchive(new MemoryStream(input), ZipArchiveMode.Read);
            entries = zip.Entries.Select(e => { using var s = e.Open(); var b = new MemoryStream(); s.CopyTo(b); return (e.FullName, b.ToArray()); }).ToList();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException) { return m.MutateBytes(input, others); }
        if (entries.Count == 0) return m.MutateBytes(input, others);
        int pkl = entries.FindIndex(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal));
        int pick = pkl >= 0 && m.Next(4) != 0 ? pkl : m.Next(entries.Count);
        entries[pick] = (entries[pick].Name, m.MutateBytes(entries[pick].Data, others));
        return Zip(entries);
    }

    // ---- IDX ---------------------------------------------------------------------------------------------------

    static byte[] Idx(params int[] dims)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = 0x08;
        header[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);
        return [.. header, .. Enumerable.Range(0, dims.Aggregate(1, (a, b) => a * b)).Select(i => (byte)i)];
    }

    static byte[] Gzip(byte[] data)
    {
        var m = new MemoryStream();
        using (var gz = new GZipStream(m, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return m.ToArray();
    }

    static byte[] MutateGzip(Mutator m, byte[] input, IReadOnlyList<byte[]> others)
    {
        if (m.Next(3) == 0) return m.MutateBytes(input, others);
        try
        {
            using var gz = new GZipStream(new MemoryStream(input), CompressionMode.Decompress);
            var plain = new MemoryStream();
            gz.CopyTo(plain);
            return Gzip(m.MutateBytes(plain.ToArray(), others));
        }
        catch (InvalidDataException) { return m.MutateBytes(input, others); }
    }

    // ---- images ------------------------------------------------------------------------------------------------

    static IReadOnlyList<byte[]> ImageSeeds()
    {
        byte[] Encode(SKColorType type, SKAlphaType alpha, int w, int h, SKEncodedImageFormat format)
        {
            using var bitmap = new SKBitmap(w, h, type, alpha);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) bitmap.SetPixel(x, y, new SKColor((byte)(x * 30), (byte)(y * 40), 90, (byte)(200 + x)));
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(format, 90);
            return data.ToArray();
        }
        return
        [
            Encode(SKColorType.Rgba8888, SKAlphaType.Opaque, 8, 6, SKEncodedImageFormat.Png),
            Encode(SKColorType.Rgba8888, SKAlphaType.Unpremul, 5, 5, SKEncodedImageFormat.Png),
            Encode(SKColorType.Gray8, SKAlphaType.Opaque, 4, 3, SKEncodedImageFormat.Png),
            Encode(SKColorType.Rgba8888, SKAlphaType.Opaque, 8, 8, SKEncodedImageFormat.Jpeg),
        ];
    }

    /// <summary>Byte mutations, then (usually) PNG chunk CRCs recomputed so libpng looks past them; sometimes IHDR's size is set.</summary>
    static byte[] MutatePng(Mutator m, byte[] input, IReadOnlyList<byte[]> others)
    {
        var data = m.MutateBytes(input, others);
        bool png = data.Length >= 24 && data.AsSpan(0, 8).SequenceEqual(PngSignature);
        if (!png || m.Next(4) == 0) return data;
        if (m.Next(3) == 0)
        {
            int[] sizes = [0, 1, 16384, 16385, 65536, int.MaxValue, -1];
            BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(16 + 4 * m.Next(2)), sizes[m.Next(sizes.Length)]);
        }
        FixPngCrcs(data);
        return data;
    }

    static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    static void FixPngCrcs(byte[] png)
    {
        for (long at = 8; at + 12 <= png.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan((int)at));
            if (at + 12 + length > png.Length) return;
            uint crc = System.IO.Hashing.Crc32.HashToUInt32(png.AsSpan((int)at + 4, (int)length + 4));
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan((int)(at + 8 + length)), crc);
            at += 12 + length;
        }
    }
}
