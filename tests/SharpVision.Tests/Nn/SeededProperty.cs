using CsCheck;

namespace SharpVision.Tests.Nn;

/// <summary>
/// Runs a CsCheck generator from a fixed PCG seed so every run checks the same cases (Check.Sample seeds only its
/// first iteration). A failure names the iteration and the generated value.
/// </summary>
static class SeededProperty
{
    public static void Run<T>(Gen<T> gen, Action<T> assert, ulong seed, int iterations = 40)
    {
        var pcg = new PCG(1, seed);
        for (int i = 0; i < iterations; i++)
        {
            var value = gen.Generate(pcg, null, out _);
            using var scope = TorchSharp.torch.NewDisposeScope();
            try { assert(value); }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"iteration {i} failed for {Check.Print(value)}: {e.Message}");
            }
        }
    }
}
