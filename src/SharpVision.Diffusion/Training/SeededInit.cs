using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Training;

/// <summary>
/// Re-draws the weights of every Conv2d, ConvTranspose2d and Linear of a module from a private generator, with
/// PyTorch's default distribution (kaiming_uniform with a = √5, i.e. U(±1/√fan_in), for weights and biases alike).
/// Trainers use it so that a seed fixes the initial weights even while other threads draw from torch's global generator.
/// </summary>
public static class SeededInit
{
    /// <param name="module">Initialised in place; norms and embeddings keep their values.</param>
    /// <param name="generator">The random source.</param>
    public static void Apply(nn.Module module, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(generator);
        using var noGrad = torch.no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            Parameter? weight, bias;
            switch (m)
            {
                case Conv2d c: weight = c.weight; bias = c.bias; break;
                case ConvTranspose2d c: weight = c.weight; bias = c.bias; break;
                case Linear l: weight = l.weight; bias = l.bias; break;
                default: continue;
            }
            if (weight is null) continue;
            // fan_in of torch's _calculate_fan_in_and_fan_out: dim 1 times the receptive field (ConvTranspose included).
            long fanIn = weight.shape[1] * weight.shape.Skip(2).Aggregate(1L, (a, b) => a * b);
            double bound = 1.0 / Math.Sqrt(fanIn);
            weight.uniform_(-bound, bound, generator: generator);
            bias?.uniform_(-bound, bound, generator: generator);
        }
    }
}
