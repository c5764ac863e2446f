namespace SharpVision.Tests.Parity;

/// <summary>
/// Every <c>case.json</c> under the fixture root is one test, dispatched on its kind to an
/// <see cref="IParityHandler"/>, in float32 and (where the case gives float64 tolerances) float64.
/// </summary>
public sealed class ParityTests
{
    static readonly Dictionary<string, IParityHandler> Handlers = typeof(ParityTests).Assembly.GetTypes()
        .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IParityHandler).IsAssignableFrom(t))
        .Select(t => (IParityHandler)Activator.CreateInstance(t)!)
        .SelectMany(h => h.Kinds.Select(k => (k, h)))
        .ToDictionary(x => x.k, x => x.h);

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in ParityCase.All()) data.Add(name);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Case(string name)
    {
        using var c = ParityCase.Load(name);
        if (!Handlers.TryGetValue(c.Kind, out var handler))
        {
            ParitySummary.Record(ParityOutcome.Skipped);
            Skip.If(true, $"kind '{c.Kind}' is not handled yet");
        }
        try
        {
            foreach (var p in c.Precisions())
            {
                using var scope = torch.NewDisposeScope();
                handler!.Run(c, p);
            }
        }
        catch (SkipException)
        {
            // A handler that cannot run its case (a fixture without its model files) skips it.
            ParitySummary.Record(ParityOutcome.Skipped);
            throw;
        }
        catch
        {
            ParitySummary.Record(ParityOutcome.Failed);
            throw;
        }
        ParitySummary.Record(ParityOutcome.Passed);
    }
}

public enum ParityOutcome { Passed, Failed, Skipped }

/// <summary>Counts case outcomes and prints <c>parity: N passed, M failed, K skipped</c> when the test run ends.</summary>
public static class ParitySummary
{
    static int passed, failed, skipped;
    static int registered;

    public static void Record(ParityOutcome outcome)
    {
        if (Interlocked.Exchange(ref registered, 1) == 0)
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Report();
        switch (outcome)
        {
            case ParityOutcome.Passed: Interlocked.Increment(ref passed); break;
            case ParityOutcome.Failed: Interlocked.Increment(ref failed); break;
            default: Interlocked.Increment(ref skipped); break;
        }
    }

    public static string Line => $"parity: {passed} passed, {failed} failed, {skipped} skipped";

    static void Report()
    {
        // The test host's stdout is not always shown by `dotnet test`; the file lets .ci/run print it too.
        Console.WriteLine(Line);
        var file = Environment.GetEnvironmentVariable("SHARPVISION_PARITY_SUMMARY");
        if (!string.IsNullOrEmpty(file)) File.WriteAllText(file, Line + Environment.NewLine);
    }
}
