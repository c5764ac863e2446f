using static TorchSharp.torch;

namespace SharpVision.Segmentation.Training;

/// <summary>
/// Re-initialises a freshly built model from its own generator, so a training run (and a test) is
/// reproducible without touching torch's global generator, which other code may be drawing from at
/// the same time. Norm layers keep their deterministic ones/zeros; every other parameter is drawn from
/// U(−1/√fan_in, 1/√fan_in) (PyTorch's default for Linear/Conv), and random buffers from N(0, 1).
/// </summary>
public static class SeededInit
{
    /// <summary>Overwrites <paramref name="module"/>'s parameters and floating buffers from a generator seeded with <paramref name="seed"/>.</summary>
    public static void Apply(nn.Module module, long seed)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            if (name.Contains("norm", StringComparison.Ordinal)) continue;
            long fanIn = p.dim() >= 2 ? p.numel() / p.shape[0] : p.shape[0];
            double bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
            using var draw = rand(p.shape, dtype: p.dtype, generator: generator);
            p.copy_(draw * (2 * bound) - bound);
        }
        foreach (var (_, b) in module.named_buffers())
        {
            if (!b.is_floating_point()) continue;
            using var draw = randn(b.shape, dtype: b.dtype, generator: generator);
            b.copy_(draw);
        }
    }
}
