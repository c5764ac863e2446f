using CsCheck;

namespace SharpVision.Tests.Testing;

/// <summary>
/// Runs a CsCheck generator from a fixed seed so every run tests the same inputs (Check.Sample seeds only its first
/// iteration and draws the rest from the clock). A failure names the iteration's seed: pass it to
/// <c>gen.Sample(assert, seed: "...")</c> to reproduce it with shrinking.
/// </summary>
public static class SeededSample
{
    public static void Run<T>(Gen<T> gen, Action<T> assert, ulong seed, int iterations = 200)
    {
        var pcg = new PCG(1, seed);
        for (int i = 0; i < iterations; i++)
        {
            var state = pcg.ToString();
            var value = gen.Generate(pcg, null, out _);
            using var scope = TorchSharp.torch.NewDisposeScope(); // tensors a property creates die with its iteration
            try { assert(value); }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"iteration {i} (seed \"{state}\") failed for {Check.Print(value)}: {e.Message}");
            }
        }
    }
}
