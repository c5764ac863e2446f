using SharpVision.Nn.Normalization;
using TorchSharp.Modules;

namespace SharpVision.Nn.Training;

/// <summary>
/// Re-draws a freshly built model's weights from a private generator, so a seed alone fixes them even while other
/// threads draw from torch's global generator. The rule goes by module type, never by parameter name:
/// <list type="bullet">
/// <item>Conv2d, ConvTranspose2d, Linear and <see cref="Layers.OneDnnLinear"/>: weight and bias from U(±1/√fan_in), PyTorch's default
/// (kaiming_uniform with a = √5), fan_in as torch's <c>_calculate_fan_in_and_fan_out</c> (dim 1 × receptive field);</item>
/// <item>normalization layers (torch's LayerNorm, GroupNorm, BatchNorm, InstanceNorm, and every
/// <see cref="INormalizationLayer"/>) keep their ones and zeros;</item>
/// <item>everything else (embeddings, learned tokens, positional tables, random buffers) keeps its constructed
/// value, unless <c>redrawOthers</c> asks for it to be drawn too.</item>
/// </list>
/// </summary>
public static class SeededInit
{
    /// <param name="module">Initialised in place.</param>
    /// <param name="generator">The random source.</param>
    /// <param name="redrawOthers">
    /// Also draw the parameters of other module types from U(±1/√fan_in) (fan_in = numel / size of dim 0) and their
    /// floating buffers from N(0, 1): for models whose embeddings and random projections are drawn from the global
    /// generator at construction (SAM's tokens and positional Gaussian matrix).
    /// </param>
    public static void Apply(nn.Module module, Generator generator, bool redrawOthers = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(generator);
        using var noGrad = torch.no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Conv2d c: DrawTorchDefault(c.weight, c.bias, generator); break;
                case ConvTranspose2d c: DrawTorchDefault(c.weight, c.bias, generator); break;
                case Linear l: DrawTorchDefault(l.weight, l.bias, generator); break;
                case Layers.OneDnnLinear l: DrawTorchDefault(l.weight, l.bias, generator); break;
                case INormalizationLayer or TorchSharp.Modules.LayerNorm or TorchSharp.Modules.GroupNorm
                    or TorchSharp.Modules.BatchNorm1d or TorchSharp.Modules.BatchNorm2d or BatchNorm3d
                    or InstanceNorm1d or TorchSharp.Modules.InstanceNorm2d or InstanceNorm3d: break;
                default:
                    if (redrawOthers) DrawOwn(m, generator);
                    break;
            }
        }
    }

    /// <summary>The same, from a generator seeded with <paramref name="seed"/>.</summary>
    public static void Apply(nn.Module module, long seed, bool redrawOthers = false)
    {
        using var generator = new Generator((ulong)seed);
        Apply(module, generator, redrawOthers);
    }

    /// <summary>U(±1/√fan_in) for the weight and the bias alike.</summary>
    static void DrawTorchDefault(Parameter? weight, Parameter? bias, Generator generator)
    {
        if (weight is null) return;
        long fanIn = weight.shape[1] * weight.shape.Skip(2).Aggregate(1L, (a, b) => a * b);
        double bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
        weight.uniform_(-bound, bound, generator: generator);
        bias?.uniform_(-bound, bound, generator: generator);
    }

    /// <summary>The module's own (not its children's) parameters from U(±1/√fan_in), its floating buffers from N(0, 1).</summary>
    static void DrawOwn(nn.Module m, Generator generator)
    {
        foreach (var (_, p) in m.named_parameters(recurse: false))
        {
            long fanIn = p.dim() >= 2 ? p.numel() / p.shape[0] : p.shape[0];
            double bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
            p.uniform_(-bound, bound, generator: generator);
        }
        foreach (var (_, b) in m.named_buffers(recurse: false))
            if (b.is_floating_point()) b.normal_(0, 1, generator: generator);
    }
}
