using Xunit.Abstractions;

namespace SharpVision.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of every reader of untrusted files, for a fixed, seeded number of executions (so CI is
/// deterministic and cheap), plus a replay of every input that once broke a reader (tests/fuzz-regressions/TARGET/).
/// A longer run: SHARPVISION_FUZZ_EXECUTIONS=200000 (and SHARPVISION_FUZZ_SEED=N for fresh inputs).
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory, MemberData(nameof(Targets))]
    public void MutatedInputsReadOrFailWithTheDocumentedException(string name)
    {
        var target = FuzzTargets.Named(name);
        int executions = FuzzRunner.Executions(target);
        int ran = FuzzRunner.Fuzz(target, executions, FuzzRunner.Seed);
        output.WriteLine($"{name}: {ran} executions, seed {FuzzRunner.Seed}");
        Assert.Equal(executions, ran);
    }

    [Theory, MemberData(nameof(Targets))]
    public void EveryInputThatOnceBrokeTheReaderNowKeepsTheContract(string name)
    {
        var target = FuzzTargets.Named(name);
        var files = Directory.Exists(target.RegressionFolder) ? Directory.GetFiles(target.RegressionFolder) : [];
        foreach (var file in files.Order(StringComparer.Ordinal))
            FuzzRunner.Check(target, File.ReadAllBytes(file), $"regression input {Path.GetFileName(file)}");
        output.WriteLine($"{name}: {files.Length} regression inputs replayed");
    }

    [Theory, MemberData(nameof(Targets))]
    public void TheSeedInputsRead(string name)
    {
        var target = FuzzTargets.Named(name);
        Assert.All(target.Seeds(), target.Run); // throws the reader's exception if a seed does not read
    }
}
