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
        var raw = ReadAll(stream);
        if (raw.Length >= 2 && raw[0] == 0x1F && raw[1] == 0x8B)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                raw = ReadAll(gz);
            }
            catch (InvalidDataException e)
            {
                throw new IdxFormatException($"{name}: corrupt or truncated gzip data ({e.Message})");
            }
        }
        if (raw.Length < 4) throw new IdxFormatException($"{name}: too short to be an IDX file ({raw.Length} bytes)");
        if (raw[0] != 0 || raw[1] != 0) throw new IdxFormatException($"{name}: not an IDX file (magic {raw[0]:X2} {raw[1]:X2} {raw[2]:X2} {raw[3]:X2})");
        if (raw[2] != 0x08) throw new IdxFormatException($"{name}: IDX element type 0x{raw[2]:X2} is not unsigned byte (0x08)");
        int rank = raw[3];
        if (rank is < 1 or > 4) throw new IdxFormatException($"{name}: IDX rank {rank} is not between 1 and 4");
        int header = 4 + 4 * rank;
        if (raw.Length < header) throw new IdxFormatException($"{name}: truncated header ({raw.Length} bytes, need {header})");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new IdxFormatException($"{name}: negative dimension {dims[i]}");
            count *= dims[i];
        }
        long have = raw.Length - header;
        if (have != count)
            throw new IdxFormatException($"{name}: header promises {count} values ({string.Join("x", dims)}) but the file holds {have}" + (have < count ? " (truncated)" : ""));
        return (dims, raw.AsSpan(header).ToArray());
    }

    /// <summary>Reads an unsigned-byte IDX file from disk.</summary>
    /// <exception cref="IdxFormatException">The file is missing, truncated or malformed.</exception>
    public static (int[] Dims, byte[] Data) ReadBytes(string path)
    {
        if (!File.Exists(path)) throw new IdxFormatException($"{path}: file not found");
        using var f = File.OpenRead(path);
        return ReadBytes(f, path);
    }

    static byte[] ReadAll(Stream s)
    {
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}
