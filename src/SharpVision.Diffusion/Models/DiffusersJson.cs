using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Models;

/// <summary>
/// Maps an enum to the exact strings of a diffusers config (<see cref="JsonStringEnumMemberNameAttribute"/> on
/// each member); an unknown string fails with the allowed values listed.
/// </summary>
public sealed class ExactNameEnumConverter<TEnum> : JsonConverter<TEnum> where TEnum : struct, Enum
{
    static readonly Dictionary<string, TEnum> ByName = Enum.GetValues<TEnum>().ToDictionary(NameOf, v => v, StringComparer.Ordinal);

    /// <summary>The config string of <paramref name="value"/>.</summary>
    public static string NameOf(TEnum value)
    {
        var field = typeof(TEnum).GetField(value.ToString(), BindingFlags.Public | BindingFlags.Static);
        return field?.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? value.ToString();
    }

    /// <summary>Parses a config string.</summary>
    /// <exception cref="ArgumentException">Not one of the allowed values (listed in the message).</exception>
    public static TEnum Parse(string text, string what) =>
        ByName.TryGetValue(text, out var v)
            ? v
            : throw new ArgumentException($"unknown {what} '{text}'; allowed: {string.Join(", ", ByName.Keys)}", what);

    /// <inheritdoc/>
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException($"{typeof(TEnum).Name} must be a string; allowed: {string.Join(", ", ByName.Keys)}");
        var text = reader.GetString()!;
        return ByName.TryGetValue(text, out var v)
            ? v
            : throw new JsonException($"unknown {typeof(TEnum).Name} '{text}'; allowed: {string.Join(", ", ByName.Keys)}");
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) => writer.WriteStringValue(NameOf(value));
}

/// <summary>
/// A diffusers <c>sample_size</c>: either one int (square) or <c>[height, width]</c>; written back in the form it was read.
/// </summary>
public sealed class SampleSizeConverter : JsonConverter<int[]?>
{
    /// <inheritdoc/>
    public override bool HandleNull => true;

    /// <inheritdoc/>
    public override int[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => [reader.GetInt32()],
        JsonTokenType.StartArray => JsonSerializer.Deserialize<int[]>(ref reader, options),
        _ => throw new JsonException("sample_size must be an int or [height, width]"),
    };

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, int[]? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else if (value.Length == 1) writer.WriteNumberValue(value[0]);
        else JsonSerializer.Serialize(writer, value, options);
    }
}

/// <summary>Reading and writing diffusers config.json files (keys sorted, two-space indent, as <c>save_config</c> writes).</summary>
internal static class DiffusersJson
{
    internal static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Python's json writes NaN and Infinity; accept them (quoted or not) and write them back, so every config that reads also saves.
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // A key set to null where the record says non-null (block_out_channels: null) fails here, naming the key, not later as a NullReferenceException.
        RespectNullableAnnotations = true,
    };

    /// <summary>Parses <paramref name="json"/> into <typeparamref name="T"/>; malformed JSON or bad values become InvalidDataException.</summary>
    internal static T Read<T>(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidDataException($"{source}: config is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Serialises with keys sorted at the top level, like diffusers' <c>to_json_string</c>.</summary>
    internal static string Write<T>(T config)
    {
        var node = JsonSerializer.SerializeToNode(config, Options)!.AsObject();
        var sorted = new JsonObject();
        foreach (var (key, value) in node.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sorted[key] = value?.DeepClone();
        return sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }) + "\n";
    }
}
