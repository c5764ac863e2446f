namespace SharpVision.Tests.Foundation;

public sealed class FixtureHarnessTests
{
    [Fact]
    public void EveryCaseFolderIsDiscoveredWithAKind()
    {
        var cases = ParityCase.All().ToList();
        Assert.Contains("nn/batch_norm2d", cases);
        Assert.All(cases, name => { using var c = ParityCase.Load(name); Assert.False(string.IsNullOrEmpty(c.Kind)); });
    }

    [Fact]
    public void CasesFromAnotherRootAreFoundThroughTheEnvironmentVariable()
    {
        // The root is resolved once per process, so run the discovery in a child process-free way:
        // point a copy of the discovery logic at a temporary root with one new case.
        var root = Directory.CreateTempSubdirectory("sv-fixtures-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "extra", "my_case"));
            File.WriteAllText(Path.Combine(root, "extra", "my_case", "case.json"), """{"kind":"made_up","tolerance":{"rtol":0,"atol":0}}""");
            var found = ParityCase.AllUnder(root).ToList();
            Assert.Equal(["extra/my_case"], found);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void AssertCloseUsesAtolPlusRtolTimesExpected()
    {
        var expected = tensor(new[] { 1.0, 100.0 });
        ParityCase.AssertClose("ok", tensor(new[] { 1.0 + 1e-6, 100.0 + 1e-3 }), expected, rtol: 1e-5, atol: 1e-6);
        var e = Assert.ThrowsAny<Exception>(() => ParityCase.AssertClose("bad", tensor(new[] { 1.0, 100.01 }), expected, 1e-5, 1e-6));
        Assert.Contains("bad", e.Message);
        Assert.Contains("flat index 1", e.Message);
        Assert.ThrowsAny<Exception>(() => ParityCase.AssertClose("shape", tensor(new[] { 1.0 }), expected, 1, 1));
    }
}
