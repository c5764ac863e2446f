using System.Buffers.Binary;
using System.IO.Compression;

namespace SharpVision.Nn.Data;

/// <summary>A file in the IDX format of (Fashion-)MNIST was missing, truncated or malformed.</summary>
public sealed class IdxFormatException(string message) : Exception(message);

/// <summary>
/// Reader for the IDX format (Yann LeCun's MNIST files): a big-endian magic <c>00 00 type rank</c>,
/// <c>rank</c> big-endian int32 dimensions, then the data. Gzip-compressed files are detected by their
/// magic bytes, so <c>.gz</c> and plain files both work.
/// </summary>
public static class IdxFile
{
    /// <summary>Reads an unsigned-byte IDX file (type 0x08) into its dimensions and data.</summary>
    /// <param name="name">Names the file in error messages.</param>
    /// <exception cref="IdxFormatException">Bad magic, unsupported type, or data shorter or longer than the header says.</exception>
    public static (int[] Dims, byte[] Data) ReadBytes(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var raw = ReadAll(stream, long.MaxValue);
        if (raw.Length >= 2 && raw[0] == 0x1F && raw[1] == 0x8B)
        {
            try
            {
                // Decompress the header first, then only as many bytes as it declares (plus one, to detect extra data):
                // a gzip bomb cannot make us hold more than its own header claims.
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                var head = ReadAll(gz, 4);
                int rank = head.Length == 4 ? head[3] : 0;
                var dimBytes = ReadAll(gz, rank is >= 1 and <= 4 ? 4 * rank : 0);
                long declared = rank is >= 1 and <= 4 && dimBytes.Length == 4 * rank ? DeclaredCount(dimBytes, rank) : 0;
                var body = ReadAll(gz, declared < 0 || declared > Array.MaxLength - 64 ? 0 : declared + 1);
                raw = [.. head, .. dimBytes, .. body];
            }
            catch (InvalidDataException e)
            {
                throw new IdxFormatException($"{name}: corrupt or truncated gzip data ({e.Message})");
            }
        }
        if (raw.Length < 4) throw new IdxFormatException($"{name}: too short to be an IDX file ({raw.Length} bytes)");
        if (raw[0] != 0 || raw[1] != 0) throw new IdxFormatException($"{name}: not an IDX file (magic {raw[0]:X2} {raw[1]:X2} {raw[2]:X2} {raw[3]:X2})");
        if (raw[2] != 0x08) throw new IdxFormatException($"{name}: IDX element type 0x{raw[2]:X2} is not unsigned byte (0x08)");
        int r = raw[3];
        if (r is < 1 or > 4) throw new IdxFormatException($"{name}: IDX rank {r} is not between 1 and 4");
        int header = 4 + 4 * r;
        if (raw.Length < header) throw new IdxFormatException($"{name}: truncated header ({raw.Length} bytes, need {header})");
        var dims = new int[r];
        for (int i = 0; i < r; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new IdxFormatException($"{name}: negative dimension {dims[i]}");
        }
        long count = DeclaredCount(raw.AsSpan(4, 4 * r), r);
        long have = raw.Length - header;
        if (have != count)
            throw new IdxFormatException($"{name}: header promises {(count < 0 ? "more than 2^63" : count)} values ({string.Join("x", dims)}) but the file holds {have}" + (have < count || count < 0 ? " (truncated)" : ""));
        return (dims, raw.AsSpan(header).ToArray());
    }

    /// <summary>The product of the big-endian int32 dimensions; -1 if one is negative or the product overflows.</summary>
    static long DeclaredCount(ReadOnlySpan<byte> dims, int rank)
    {
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            int d = BinaryPrimitives.ReadInt32BigEndian(dims[(4 * i)..]);
            if (d < 0) return -1;
            try { count = checked(count * d); }
            catch (OverflowException) { return -1; }
        }
        return count;
    }

    /// <summary>Reads an unsigned-byte IDX file from disk.</summary>
    /// <exception cref="IdxFormatException">The file is missing, truncated or malformed.</exception>
    public static (int[] Dims, byte[] Data) ReadBytes(string path)
    {
        if (!File.Exists(path)) throw new IdxFormatException($"{path}: file not found");
        using var f = File.OpenRead(path);
        return ReadBytes(f, path);
    }

    /// <summary>Up to <paramref name="limit"/> bytes of the stream (fewer if it ends first).</summary>
    static byte[] ReadAll(Stream s, long limit)
    {
        using var m = new MemoryStream();
        var buffer = new byte[81920];
        while (m.Length < limit)
        {
            int n = s.Read(buffer, 0, (int)Math.Min(buffer.Length, limit - m.Length));
            if (n == 0) break;
            m.Write(buffer, 0, n);
        }
        return m.ToArray();
    }
}
