using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// scheduler_config.json reading and writing shared by the scheduler configs. Writes keys sorted and indented by
/// two, as diffusers' <c>save_config</c> does, so files diff cleanly against the reference's.
/// </summary>
public static partial class SchedulerConfigJson
{
    public const string FileName = "scheduler_config.json";

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        // diffusers writes NaN/Infinity for some float fields of other schedulers; accept them.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // null for a non-nullable field fails at reading, naming the key.
        RespectNullableAnnotations = true,
    };

    /// <exception cref="ArgumentException">An option has an unknown value (the message lists the allowed ones).</exception>
    /// <exception cref="InvalidDataException">The text is not a JSON object of the config's form.</exception>
    public static T FromJson<T>(string json) where T : class
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<T>(QuotePythonLiterals(json), Options) ?? throw new InvalidDataException($"{typeof(T).Name}: the JSON is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Serialises the config's runtime type (a derived record seen through its base still writes every field).</summary>
    public static string ToJson(object config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var node = JsonSerializer.SerializeToNode(config, config.GetType(), Options)!.AsObject();
        var sorted = new JsonObject();
        foreach (var (key, value) in node.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
        {
            node.Remove(key);
            sorted[key] = value;
        }
        return UnquotedNamedFloats().Replace(sorted.ToJsonString(Options), "$1") + "\n";
    }

    /// <summary>The file itself, or a folder's <c>scheduler_config.json</c> (a pipeline's <c>scheduler/</c> folder).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a JSON object of the config's form (the message names the file).</exception>
    /// <exception cref="ArgumentException">An option has an unknown value (the message names the file).</exception>
    public static T Load<T>(string path) where T : class
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"scheduler config not found: {path}", path);
        try { return FromJson<T>(File.ReadAllText(path)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        catch (ArgumentException e) { throw new ArgumentException($"{path}: {e.Message}", e); }
    }

    public static void Save(object config, string path) => AtomicFile.WriteAllText(path, ToJson(config));

    /// <summary>
    /// Reads a config text as <paramref name="type"/> (a <see cref="SchedulerConfig"/> record).
    /// </summary>
    /// <exception cref="InvalidDataException">The text is not a JSON object of the config's form.</exception>
    public static SchedulerConfig FromJson(string json, Type type)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return (SchedulerConfig)(JsonSerializer.Deserialize(QuotePythonLiterals(json), type, Options) ?? throw new InvalidDataException($"{type.Name}: the JSON is null"));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{type.Name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Parses a config text into a node, accepting the bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> that
    /// Python's json module writes for non-finite floats (diffusers' <c>lambda_min_clipped = -inf</c>); they become the
    /// strings System.Text.Json reads back as doubles.
    /// </summary>
    /// <exception cref="JsonException">Malformed JSON.</exception>
    public static JsonNode? ParseNode(string json, JsonDocumentOptions documentOptions = default) =>
        JsonNode.Parse(QuotePythonLiterals(json), documentOptions: documentOptions);

    /// <summary>Quotes the bare NaN/Infinity/-Infinity tokens outside strings (Python's json output), leaving the rest as is.</summary>
    internal static string QuotePythonLiterals(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!json.Contains("NaN", StringComparison.Ordinal) && !json.Contains("Infinity", StringComparison.Ordinal)) return json;
        var result = new System.Text.StringBuilder(json.Length + 8);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                result.Append(c);
                if (c == '\\' && i + 1 < json.Length) result.Append(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; result.Append(c); continue; }
            string? token = json.AsSpan(i).StartsWith("-Infinity") ? "-Infinity"
                : json.AsSpan(i).StartsWith("Infinity") ? "Infinity"
                : json.AsSpan(i).StartsWith("NaN") ? "NaN" : null;
            if (token is null) { result.Append(c); continue; }
            result.Append('"').Append(token).Append('"');
            i += token.Length - 1;
        }
        return result.ToString();
    }

    /// <summary>A non-finite float written as a string value; written back bare, as Python's json does, so diffusers reads a float.</summary>
    [GeneratedRegex(@"(?<=[:\[,]\s*)""(-?Infinity|NaN)""(?=\s*[,\]}\r\n])")]
    private static partial Regex UnquotedNamedFloats();
}
