using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace SharpVision.Experiments.Output;

/// <summary>
/// PNG <c>tEXt</c> chunks (PNG 1.2, section 11.3.4.3): key/value text stored in the file, as the popular Stable
/// Diffusion UIs record a generated image's prompt, seed, steps, scheduler and guidance under the key <c>parameters</c>.
/// Written by hand because SkiaSharp's PNG encoder has no option for text chunks.
/// </summary>
public static class PngText
{
    static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>The PNG with one <c>tEXt</c> chunk per entry inserted after IHDR.</summary>
    /// <exception cref="ArgumentException">Not a PNG, or a key that PNG does not allow (1–79 Latin-1 characters, no NUL).</exception>
    public static byte[] Insert(byte[] png, IEnumerable<KeyValuePair<string, string>> entries)
    {
        ArgumentNullException.ThrowIfNull(png);
        if (png.Length < 33 || !png.AsSpan(0, 8).SequenceEqual(Signature) || Encoding.ASCII.GetString(png, 12, 4) != "IHDR")
            throw new ArgumentException("not a PNG stream (no signature and IHDR)", nameof(png));
        int ihdrEnd = 8 + 12 + (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(8, 4));
        using var result = new MemoryStream(png.Length + 256);
        result.Write(png, 0, ihdrEnd);
        foreach (var (key, value) in entries) WriteChunk(result, "tEXt", TextData(key, value));
        result.Write(png, ihdrEnd, png.Length - ihdrEnd);
        return result.ToArray();
    }

    /// <summary>Every <c>tEXt</c> entry of a PNG, in file order.</summary>
    /// <exception cref="InvalidDataException">Not a PNG, or a chunk runs past the end of the data.</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> Read(byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("not a PNG stream (bad signature)");
        var entries = new List<KeyValuePair<string, string>>();
        for (long at = 8; at + 12 <= png.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan((int)at, 4));
            if (at + 12 + length > png.Length) throw new InvalidDataException($"PNG chunk at byte {at} runs past the end ({length} bytes declared)");
            var type = Encoding.ASCII.GetString(png, (int)at + 4, 4);
            if (type == "tEXt")
            {
                var data = png.AsSpan((int)at + 8, (int)length);
                int nul = data.IndexOf((byte)0);
                if (nul > 0) entries.Add(new(Encoding.Latin1.GetString(data[..nul]), Encoding.Latin1.GetString(data[(nul + 1)..])));
            }
            if (type == "IEND") break;
            at += 12 + length;
        }
        return entries;
    }

    static byte[] TextData(string key, string value)
    {
        if (key.Length is 0 or > 79 || key.Any(c => c == '\0' || c > 255))
            throw new ArgumentException($"PNG text key '{key}' must be 1-79 Latin-1 characters without NUL", nameof(key));
        // tEXt is Latin-1; characters outside it become '?', as the text chunk cannot carry them.
        var latin1 = value.Select(c => c is > '\0' and <= (char)255 ? c : '?').ToArray();
        return [.. Encoding.Latin1.GetBytes(key), 0, .. Encoding.Latin1.GetBytes(latin1)];
    }

    static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        s.Write(word);
        var typeAndData = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData, 4);
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typeAndData));
        s.Write(word);
    }
}
