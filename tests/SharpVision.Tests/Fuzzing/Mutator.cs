using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace SharpVision.Tests.Fuzzing;

/// <summary>
/// A seeded, deterministic mutator in the style of libFuzzer's: bit flips, random bytes, insertions, deletions,
/// splices between seeds, interesting integers written over length fields, and JSON-aware edits that replace a value
/// of the parsed document with one of the wrong type or an extreme size. The same seed gives the same inputs on
/// every run and machine (<see cref="Random(int)"/> is a fixed algorithm).
/// </summary>
public sealed class Mutator(int seed)
{
    readonly Random random = new(seed);

    static readonly long[] InterestingIntegers =
    [
        0, 1, -1, 2, 7, 8, 16, 255, 256, 4095, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32,
        1_000_000_000_000, 1L << 40, long.MaxValue, long.MinValue, long.MaxValue - 7,
    ];

    static readonly string[] InterestingJson =
    [
        "null", "true", "0", "-1", "1.5", "1e30", "-1e30", "9223372036854775808", "2147483647", "2147483648", "1000000000000", "\"\"",
        "\"x\"", "[]", "[-1]", "[1e12, 1e12]", "{}", "[[]]", "\"F32\"", "\"NaN\"", "[0, 18446744073709551615]",
    ];

    /// <summary>An int in [0, max).</summary>
    public int Next(int max) => random.Next(max);

    /// <summary>1 to 4 byte-level mutations of <paramref name="input"/>; <paramref name="others"/> supply splice material.</summary>
    public byte[] MutateBytes(byte[] input, IReadOnlyList<byte[]> others)
    {
        var data = new List<byte>(input);
        int rounds = 1 + random.Next(4);
        for (int r = 0; r < rounds; r++)
        {
            int at = data.Count == 0 ? 0 : random.Next(data.Count);
            switch (random.Next(8))
            {
                case 0 when data.Count > 0: data[at] ^= (byte)(1 << random.Next(8)); break;
                case 1 when data.Count > 0: data[at] = (byte)random.Next(256); break;
                case 2: data.InsertRange(at, RandomBytes(1 + random.Next(8))); break;
                case 3 when data.Count > 0: data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(16))); break;
                case 4: WriteInteger(data, at); break;
                case 5 when others.Count > 0:
                {
                    var other = others[random.Next(others.Count)];
                    if (other.Length == 0) break;
                    int from = random.Next(other.Length), n = Math.Min(other.Length - from, 1 + random.Next(64));
                    data.InsertRange(at, other.AsSpan(from, n).ToArray());
                    break;
                }
                case 6 when data.Count > 0: data.RemoveRange(at, data.Count - at); break; // truncate
                case 7 when data.Count > 1:
                {
                    int n = Math.Min(data.Count - at, 1 + random.Next(32));
                    data.InsertRange(random.Next(data.Count), data.GetRange(at, n)); // duplicate a chunk
                    break;
                }
            }
        }
        return [.. data];
    }

    /// <summary>Replaces one value of a JSON document (any depth) with an interesting one, or deletes a key; null if not JSON.</summary>
    public string? MutateJson(string json)
    {
        JsonNode? root;
        var slots = new List<(JsonNode Parent, object Key)>();
        try
        {
            root = JsonNode.Parse(json);
            if (root is null) return null;
            Collect(root, slots); // JsonObject parses lazily: a duplicate key throws here
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException) { return null; }
        if (slots.Count == 0) return null;
        int rounds = 1 + random.Next(3);
        for (int r = 0; r < rounds; r++)
        {
            var (parent, key) = slots[random.Next(slots.Count)];
            var replacement = JsonNode.Parse(InterestingJson[random.Next(InterestingJson.Length)]);
            if (parent is JsonObject o && key is string k)
            {
                if (!o.ContainsKey(k)) continue;
                if (random.Next(5) == 0) o.Remove(k);
                else o[k] = replacement;
            }
            else if (parent is JsonArray a && key is int i && i < a.Count) a[i] = replacement;
        }
        return root.ToJsonString();
    }

    static void Collect(JsonNode node, List<(JsonNode, object)> slots)
    {
        if (node is JsonObject o)
            foreach (var (k, v) in o.ToList())
            {
                slots.Add((o, k));
                if (v is not null) Collect(v, slots);
            }
        else if (node is JsonArray a)
            for (int i = 0; i < a.Count; i++)
            {
                slots.Add((a, i));
                if (a[i] is { } v) Collect(v, slots);
            }
    }

    /// <summary>UTF-8 text mutated as JSON (most of the time) or as bytes.</summary>
    public byte[] MutateJsonText(byte[] input, IReadOnlyList<byte[]> others)
    {
        if (random.Next(3) != 0 && MutateJson(Encoding.UTF8.GetString(input)) is { } json) return Encoding.UTF8.GetBytes(json);
        return MutateBytes(input, others);
    }

    byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    void WriteInteger(List<byte> data, int at)
    {
        long v = InterestingIntegers[random.Next(InterestingIntegers.Length)];
        int width = (1 << random.Next(4)); // 1, 2, 4 or 8 bytes
        Span<byte> b = stackalloc byte[8];
        if (random.Next(2) == 0) BinaryPrimitives.WriteInt64LittleEndian(b, v);
        else { BinaryPrimitives.WriteInt64BigEndian(b, v); b = b[(8 - width)..]; }
        for (int i = 0; i < width; i++)
        {
            if (at + i < data.Count) data[at + i] = b[i];
            else data.Add(b[i]);
        }
    }
}
