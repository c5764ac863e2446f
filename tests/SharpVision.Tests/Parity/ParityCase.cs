using System.Text.Json;
using SharpVision.Nn;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Parity;

/// <summary>The precision one run of a case uses: the dtype models and inputs are cast to, and its tolerances.</summary>
public sealed record Precision(ScalarType Dtype, double Rtol, double Atol)
{
    public override string ToString() => Dtype == ScalarType.Float64 ? "float64" : "float32";
}

/// <summary>
/// One fixture case: a folder with <c>case.json</c> (kind, params, tolerance) and <c>tensors.safetensors</c>,
/// plus the reference's model files for model cases (see tests/fixtures/README.md).
/// </summary>
public sealed class ParityCase : IDisposable
{
    readonly Lazy<Dictionary<string, Tensor>> tensors;

    public string Directory { get; }
    /// <summary>Path relative to the fixture root, e.g. "nn/batch_norm2d".</summary>
    public string Name { get; }
    public string Kind { get; }
    public JsonElement Json { get; }
    public JsonElement Params { get; }

    ParityCase(string directory, string name)
    {
        Directory = directory;
        Name = name;
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(System.IO.Path.Combine(directory, "case.json")));
        Json = doc.RootElement.Clone();
        Kind = Json.GetProperty("kind").GetString() ?? throw new InvalidDataException($"{name}: case.json has no kind");
        Params = Json.TryGetProperty("params", out var p) ? p : default;
        tensors = new(() =>
        {
            var file = System.IO.Path.Combine(directory, "tensors.safetensors");
            if (!System.IO.File.Exists(file)) return new Dictionary<string, Tensor>();
            // Loaded lazily, often inside a run's dispose scope: detach so later precisions still see them.
            var loaded = StateDict.LoadSafetensors(file);
            foreach (var t in loaded.Values) t.DetachFromDisposeScope();
            return loaded;
        });
    }

    public static ParityCase Load(string name) =>
        new(System.IO.Path.Combine(FixtureRoot.Path, name), name);

    /// <summary>Every case folder under the root, as names relative to it, sorted.</summary>
    public static IEnumerable<string> All() => AllUnder(FixtureRoot.Path);

    /// <summary>Every case folder under <paramref name="root"/>, relative to it, sorted.</summary>
    public static IEnumerable<string> AllUnder(string root) =>
        System.IO.Directory.EnumerateFiles(root, "case.json", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(root, System.IO.Path.GetDirectoryName(f)!).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// The float32 run, and a float64 run: with the case's float64 tolerances where it gives them, else — where
    /// every floating expected tensor was stored in float64 (the reference computed it in float64) — with the
    /// float32 tolerances, which a float64 computation must meet as well.
    /// </summary>
    public IEnumerable<Precision> Precisions()
    {
        var tol = Json.GetProperty("tolerance");
        double rtol = tol.GetProperty("rtol").GetDouble(), atol = tol.GetProperty("atol").GetDouble();
        yield return new Precision(ScalarType.Float32, rtol, atol);
        if (tol.TryGetProperty("float64_rtol", out var r64) && tol.TryGetProperty("float64_atol", out var a64))
            yield return new Precision(ScalarType.Float64, r64.GetDouble(), a64.GetDouble());
        else if (ExpectedAreFloat64())
            yield return new Precision(ScalarType.Float64, rtol, atol);
    }

    bool ExpectedAreFloat64()
    {
        var floating = tensors.Value.Where(kv => kv.Key.StartsWith("expected", StringComparison.Ordinal) && kv.Value.is_floating_point()).ToList();
        return floating.Count > 0 && floating.All(kv => kv.Value.dtype == ScalarType.Float64);
    }

    public string PathOf(string relative) => System.IO.Path.Combine(Directory, relative);

    public bool Has(string tensorName) => tensors.Value.ContainsKey(tensorName);

    public IEnumerable<string> TensorNames => tensors.Value.Keys;

    /// <summary>A stored tensor as it is (its stored dtype).</summary>
    public Tensor Raw(string name) =>
        tensors.Value.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Name}: tensors.safetensors has no '{name}' (has {string.Join(", ", tensors.Value.Keys)})");

    /// <summary>A stored floating tensor cast to the run's dtype; integer and bool tensors unchanged.</summary>
    public Tensor Input(string name, Precision p)
    {
        var t = Raw(name);
        return t.is_floating_point() ? t.to(p.Dtype) : t;
    }

    public bool Bool(string param, bool fallback = false) =>
        Params.ValueKind == JsonValueKind.Object && Params.TryGetProperty(param, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetBoolean() : fallback;

    public double? Double(string param) =>
        Params.ValueKind == JsonValueKind.Object && Params.TryGetProperty(param, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public long? Long(string param) =>
        Params.ValueKind == JsonValueKind.Object && Params.TryGetProperty(param, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    public string? String(string param) =>
        Params.ValueKind == JsonValueKind.Object && Params.TryGetProperty(param, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Asserts <paramref name="actual"/> equals the stored <paramref name="expectedName"/> within the run's tolerance.</summary>
    public void Expect(string expectedName, Tensor actual, Precision p) => AssertClose($"{Name} [{p}] {expectedName}", actual, Raw(expectedName), p.Rtol, p.Atol);

    /// <summary>
    /// <c>|actual - expected| &lt;= atol + rtol * |expected|</c> elementwise (compared in float64); integer and
    /// bool tensors must be equal. The failure message names the tensor, the worst element and the count.
    /// </summary>
    public static void AssertClose(string what, Tensor actual, Tensor expected, double rtol, double atol)
    {
        using var scope = torch.NewDisposeScope();
        if (!actual.shape.SequenceEqual(expected.shape))
            Assert.Fail($"{what}: shape {Shapes.Format(actual)} but expected {Shapes.Format(expected)}");
        var a = actual.detach().cpu();
        var e = expected.detach().cpu();
        if (!e.is_floating_point())
        {
            var unequal = a.to(e.dtype).ne(e);
            long count = unequal.sum().item<long>();
            if (count > 0) Assert.Fail($"{what}: {count} of {e.numel()} elements differ (exact comparison)");
            return;
        }
        var a64 = a.to(ScalarType.Float64);
        var e64 = e.to(ScalarType.Float64);
        if (a64.isnan().any().item<bool>() != e64.isnan().any().item<bool>() || a64.isnan().ne(e64.isnan()).any().item<bool>())
            Assert.Fail($"{what}: NaN pattern differs from expected");
        var diff = (a64 - e64).abs().nan_to_num(0.0);
        var bound = atol + rtol * e64.abs().nan_to_num(0.0);
        var bad = diff.gt(bound);
        long badCount = bad.sum().item<long>();
        if (badCount == 0) return;
        long worst = (diff - bound).flatten().argmax().item<long>();
        double got = a64.flatten()[worst].item<double>(), want = e64.flatten()[worst].item<double>();
        Assert.Fail($"{what}: {badCount} of {e.numel()} elements outside atol={atol:g} rtol={rtol:g}; " +
                    $"max |diff| {diff.max().item<double>():g}; worst at flat index {worst}: got {got:g}, expected {want:g}");
    }

    public void Dispose()
    {
        if (!tensors.IsValueCreated) return;
        foreach (var t in tensors.Value.Values) t.Dispose();
    }
}
