using SharpVision.Diffusion.Pipelines;

namespace SharpVision.Tests.Diffusion;

/// <summary>
/// Fixture kind <c>torch_generator</c>: for each seed, <c>torch.Generator().manual_seed(seed)</c>, a randn of the case's
/// shape (diffusers' latents, through <see cref="Latents.Randn(long[], Generator, ScalarType, Device?)"/>), then a
/// (4, 4) rand from the same generator, which checks the generator's state after the randn too.
/// </summary>
public sealed class TorchGeneratorParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["torch_generator"];

    public void Run(ParityCase c, Precision p)
    {
        foreach (var draw in c.Params.GetProperty("cases").EnumerateArray())
        {
            long seed = draw.GetProperty("seed").GetInt64();
            long[] shape = draw.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            using var generator = new Generator((ulong)seed);
            var expected = c.Raw($"seed{seed}.randn");
            ParityCase.AssertClose($"{c.Name} seed{seed}.randn", Latents.Randn(shape, generator, expected.dtype), expected, p.Rtol, p.Atol);
            ParityCase.AssertClose($"{c.Name} seed{seed}.then_rand", rand([4, 4], generator: generator), c.Raw($"seed{seed}.then_rand"), p.Rtol, p.Atol);
        }
    }
}
