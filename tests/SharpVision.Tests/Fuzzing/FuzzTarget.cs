using SharpVision.Tests.Parity;

namespace SharpVision.Tests.Fuzzing;

/// <summary>
/// One reader under fuzzing: seed inputs, how to mutate them, how to run one input, and which exceptions its
/// documentation allows. The contract: an input either reads, or fails with an allowed exception whose message names
/// <see cref="Source"/>; nothing else (IndexOutOfRange, NullReference, Overflow, JsonException…), no hang, and no
/// managed allocation beyond <see cref="AllocationBudget"/> for the input's size.
/// </summary>
public sealed record FuzzTarget(
    string Name,
    string Source,
    Func<IReadOnlyList<byte[]>> Seeds,
    Action<byte[]> Run,
    Type[] Allowed,
    Func<Mutator, byte[], IReadOnlyList<byte[]>, byte[]> Mutate,
    int DefaultExecutions)
{
    /// <summary>Whether the message must name the source (false for readers whose API takes no name).</summary>
    public bool MessageNamesSource { get; init; } = true;

    /// <summary>Managed bytes one input may allocate: a fixed allowance plus a multiple of its length.</summary>
    public Func<byte[], long> AllocationBudget { get; init; } = input => (16L << 20) + 64L * input.Length;

    /// <summary>Where inputs that once broke this reader are kept and replayed.</summary>
    public string RegressionFolder => Path.Combine(Path.GetDirectoryName(FixtureRoot.Path)!, "fuzz-regressions", Name);

    public override string ToString() => Name;
}

/// <summary>Runs a target for a fixed number of executions and reports the first input that breaks its contract.</summary>
public static class FuzzRunner
{
    /// <summary>Executions per target in CI; the variable overrides it for a longer run.</summary>
    public const string ExecutionsVariable = "SHARPVISION_FUZZ_EXECUTIONS";

    /// <summary>Seeds the mutator; a failure prints it so the run can be repeated.</summary>
    public const string SeedVariable = "SHARPVISION_FUZZ_SEED";

    // A reader that takes this long on a small input is looping; the run stops and reports the input.
    static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    public static int Executions(FuzzTarget target) =>
        int.TryParse(Environment.GetEnvironmentVariable(ExecutionsVariable), out var n) && n > 0 ? n : target.DefaultExecutions;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var s) ? s : 20261201;

    /// <summary>Mutates seeds <paramref name="executions"/> times; returns how many inputs ran (all, unless one broke the contract, which throws) and how many read.</summary>
    public static (int Executions, int Read) Fuzz(FuzzTarget target, int executions, int seed)
    {
        int read = 0;
        var seeds = target.Seeds();
        foreach (var s in seeds) Check(target, s, $"seed input of {target.Name}");
        var mutator = new Mutator(seed);
        var corpus = new List<byte[]>(seeds);
        for (int i = 0; i < executions; i++)
        {
            var parent = corpus[mutator.Next(corpus.Count)];
            var input = target.Mutate(mutator, parent, corpus);
            if (!Check(target, input, $"execution {i} of {target.Name} (seed {seed})")) continue;
            read++;
            if (corpus.Count < 64) corpus.Add(input); // inputs that still read are good parents: they get past the format checks
        }
        return (executions, read);
    }

    /// <summary>Runs one input; true when it read, false when it failed as allowed; throws a report otherwise.</summary>
    public static bool Check(FuzzTarget target, byte[] input, string what)
    {
        Exception? thrown = null;
        long allocated = 0;
        var task = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { target.Run(input); }
            catch (Exception e) { thrown = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        if (!task.Wait(HangLimit))
            throw Report(target, input, what, $"no result after {HangLimit.TotalSeconds} s (hang)");
        if (allocated > target.AllocationBudget(input))
            throw Report(target, input, what, $"allocated {allocated} managed bytes for a {input.Length}-byte input");
        if (thrown is null) return true;
        if (!target.Allowed.Any(t => t.IsInstanceOfType(thrown)))
            throw Report(target, input, what, $"threw {thrown.GetType().FullName}, not one of {string.Join(", ", target.Allowed.Select(t => t.Name))}: {thrown}");
        if (target.MessageNamesSource && !thrown.Message.Contains(target.Source, StringComparison.Ordinal))
            throw Report(target, input, what, $"the {thrown.GetType().Name} does not name {target.Source}: {thrown.Message}");
        return false;
    }

    /// <summary>The failure, with the input as base64 and as a file ready to move into the regression folder.</summary>
    static Xunit.Sdk.XunitException Report(FuzzTarget target, byte[] input, string what, string problem)
    {
        var dir = Path.Combine(Path.GetTempPath(), "sharpvision-fuzz-failures", target.Name);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16].ToLowerInvariant() + ".bin");
        File.WriteAllBytes(file, input);
        return new($"{what}: {problem}\nInput ({input.Length} bytes) written to {file}; move it to {target.RegressionFolder}. Base64:\n{Convert.ToBase64String(input)}");
    }
}
