using SharpVision.Nn;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// Initial latents drawn as diffusers' <c>randn_tensor</c> (diffusers <c>utils/torch_utils.py</c>) draws them with CPU
/// generators, so a seed gives the numbers — and so the image — diffusers gives for it on the CPU.
/// </summary>
/// <remarks>
/// <para>randn_tensor calls <c>torch.randn(shape, generator=g, dtype=dtype)</c>: it draws in the target dtype, not in
/// float32 then cast. PyTorch's CPU normal kernel (aten/src/ATen/native/cpu/DistributionTemplates.h) fills a contiguous
/// tensor of 16 or more elements with uniforms drawn in its own dtype, then Box–Muller in blocks of 16 (the last block
/// redrawn when 16 does not divide the size) computed in that dtype; a smaller tensor is drawn element by element in
/// double and rounded. So a float16, bfloat16 or float64 draw is not the float32 draw converted, and a tensor of 15
/// elements is not the start of one of 16. Only float32 is checked against PyTorch (fixture kind
/// <c>torch_generator</c>).</para>
/// <para>TorchSharp's <see cref="Generator"/> is libtorch's CPU generator (mt19937), so <c>new Generator(seed)</c> equals
/// <c>torch.Generator().manual_seed(seed)</c> and later draws from it continue the same stream.</para>
/// </remarks>
public static class Latents
{
    /// <summary>Gaussian noise from one generator, as <c>randn_tensor(shape, generator=g, dtype=dtype)</c>.</summary>
    /// <param name="shape">E.g. (B, C, H/8, W/8) for Stable Diffusion's latents.</param>
    /// <param name="generator">A CPU generator; advanced by the draw.</param>
    /// <param name="dtype">Drawn in this dtype.</param>
    /// <param name="device">Moved here after the draw (diffusers draws CPU-generator noise on the CPU); default the CPU.</param>
    /// <returns><paramref name="shape"/> standard normal.</returns>
    /// <exception cref="ArgumentException">A negative size.</exception>
    public static Tensor Randn(long[] shape, Generator generator, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        RequireShape(shape);
        ArgumentNullException.ThrowIfNull(generator);
        var noise = torch.randn(shape, dtype: dtype, generator: generator);
        return device is null || device.type == DeviceType.CPU ? noise : Moved(noise, device);
    }

    /// <summary>
    /// Gaussian noise with one generator per batch item, as <c>randn_tensor(shape, generator=[g0, g1, …])</c>: item b is
    /// drawn from generator b as a (1, …) tensor, so it equals the single-image draw of that seed whatever the batch.
    /// </summary>
    /// <param name="shape">(B, …).</param>
    /// <param name="generators">B CPU generators (diffusers treats a list of one as a single generator, which is the same).</param>
    /// <returns><paramref name="shape"/> standard normal.</returns>
    /// <exception cref="ArgumentException">No batch dimension, a negative size, or not one generator per batch item.</exception>
    public static Tensor Randn(long[] shape, IReadOnlyList<Generator> generators, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        RequireShape(shape);
        ArgumentNullException.ThrowIfNull(generators);
        if (shape.Length == 0 || shape[0] != generators.Count)
            throw new ArgumentException($"need one generator per batch item: shape {Shapes.Format(shape)} but {generators.Count} generators", nameof(generators));
        if (generators.Count == 1) return Randn(shape, generators[0], dtype, device);
        using var scope = torch.NewDisposeScope();
        long[] item = [1, .. shape[1..]]; // (1, …)
        var noise = torch.cat(generators.Select(g => Randn(item, g, dtype)).ToList(), 0); // (B, …)
        if (device is not null && device.type != DeviceType.CPU) noise = noise.to(device);
        return noise.MoveToOuterDisposeScope();
    }

    static Tensor Moved(Tensor cpu, Device device)
    {
        var moved = cpu.to(device);
        cpu.Dispose();
        return moved;
    }

    static void RequireShape(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(s => s < 0)) throw new ArgumentException($"shape sizes must be >= 0; got {Shapes.Format(shape)}", nameof(shape));
    }
}
