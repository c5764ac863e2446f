using System.Text.Json;

namespace SharpVision.Tests.Algorithms;

/// <summary>
/// The cases of <c>algo/hash_table_cases.json</c> under the fixture root (checked by brute force in Python). Theories
/// enumerate them by index, so a case added to the file becomes a test without a code change.
/// </summary>
static class HashTableCases
{
    static readonly Lazy<JsonElement> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixtureRoot.Combine("algo", "hash_table_cases.json")));
        return doc.RootElement.GetProperty("cases").Clone();
    });

    /// <summary>The cases of one problem ("anagram", "intersection", "happy", "two_sum").</summary>
    public static JsonElement[] Of(string problem) => [.. Cases.Value.GetProperty(problem).EnumerateArray()];

    /// <summary>Theory rows (index, short label) for one problem.</summary>
    public static TheoryData<int, string> Rows(string problem)
    {
        var rows = new TheoryData<int, string>();
        var cases = Of(problem);
        for (int i = 0; i < cases.Length; i++)
        {
            var label = cases[i].GetRawText().Replace("\n", "").Replace(" ", "");
            rows.Add(i, label.Length > 80 ? label[..77] + "..." : label);
        }
        return rows;
    }

    public static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
}
