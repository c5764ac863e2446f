using System.Text.Json;
using SharpVision.Nn;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;

namespace SharpVision.Tests.Segmentation;

/// <summary>
/// <c>sam_state_dict_shapes</c>: a model built for <c>params.model_type</c> has exactly the keys and shapes of
/// the official checkpoint listed in <c>params.shapes_file</c> (key → shape), so that file loads strictly.
/// </summary>
public sealed class SamStateDictShapesParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["sam_state_dict_shapes"];

    public void Run(ParityCase c, Precision p)
    {
        var expected = ReadShapes(c.PathOf(c.String("shapes_file")!));
        if (c.Long("count") is { } count) Assert.Equal(count, expected.Count);
        using var sam = SamModel.Build(SamConfig.ForModelType(c.String("model_type")!));
        var mine = sam.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var problems = Compare(expected, mine);
        Assert.True(problems.Count == 0, $"{c.Name}: {problems.Count} differences from the official state_dict:\n{string.Join('\n', problems)}");
    }

    /// <summary>Every missing, unexpected and misshaped key, one line each.</summary>
    internal static List<string> Compare(IReadOnlyDictionary<string, long[]> expected, IReadOnlyDictionary<string, long[]> actual)
    {
        var problems = new List<string>();
        problems.AddRange(expected.Keys.Where(k => !actual.ContainsKey(k)).Order(StringComparer.Ordinal).Select(k => $"missing {k} {Shapes.Format(expected[k])}"));
        problems.AddRange(actual.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).Select(k => $"unexpected {k} {Shapes.Format(actual[k])}"));
        problems.AddRange(expected.Where(kv => actual.TryGetValue(kv.Key, out var s) && !s.SequenceEqual(kv.Value)).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"misshaped {kv.Key}: official {Shapes.Format(kv.Value)} vs model {Shapes.Format(actual[kv.Key])}"));
        return problems;
    }

    /// <summary>Reads <c>{"key": [d0, d1, ...], ...}</c>.</summary>
    internal static Dictionary<string, long[]> ReadShapes(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.EnumerateArray().Select(d => d.GetInt64()).ToArray(), StringComparer.Ordinal);
    }
}
