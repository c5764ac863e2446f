using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Measurement;

/// <summary>
/// Counts the FLOPs of forward passes with forward hooks, not by formula: every Conv2d and Linear adds
/// 2 · output elements · fan-in, every attention (diffusers' <see cref="Attention"/>, CLIP's <see cref="CLIPAttention"/>)
/// its two products q·kᵀ and weights·v, 4 · B · N · M · inner (CLIP's causal attention counted in full).
/// Normalisation, activations, softmax and additions are not counted. Dispose to remove the hooks.
/// </summary>
internal sealed class FlopCounter : IDisposable
{
    readonly List<Action> removers = [];

    /// <summary>FLOPs counted since construction.</summary>
    public double Flops { get; private set; }

    /// <summary>Hooks every counted layer of <paramref name="models"/>.</summary>
    public FlopCounter(params nn.Module[] models)
    {
        foreach (var model in models)
            foreach (var (_, module) in model.named_modules())
                Hook(module);
    }

    /// <summary>FLOPs of <paramref name="forward"/> (run without autograd) through the layers of <paramref name="model"/>.</summary>
    public static double Count(nn.Module model, Action forward)
    {
        using var counter = new FlopCounter(model);
        using (no_grad()) forward();
        return counter.Flops;
    }

    void Hook(nn.Module module)
    {
        switch (module)
        {
            case Conv2d conv:
                removers.Add(conv.register_forward_hook((_, _, output) =>
                {
                    Flops += 2.0 * output.numel() * conv.weight!.shape[1] * conv.weight.shape[2] * conv.weight.shape[3];
                    return output;
                }).remove);
                break;
            case Linear linear:
                removers.Add(linear.register_forward_hook((_, _, output) =>
                {
                    Flops += 2.0 * output.numel() * linear.weight!.shape[1];
                    return output;
                }).remove);
                break;
            case Attention attention:
                removers.Add(attention.register_forward_hook((_, input, context, output) =>
                {
                    long n = input.dim() == 4 ? input.shape[2] * input.shape[3] : input.shape[1]; // (B, C, H, W) or (B, N, C)
                    Flops += 4.0 * input.shape[0] * n * (context?.shape[1] ?? n) * attention.to_q.weight!.shape[0];
                    return output;
                }).remove);
                break;
            case CLIPAttention clip:
                removers.Add(clip.register_forward_hook((_, input, _, output) =>
                {
                    long l = input.shape[1]; // (B, L, D)
                    Flops += 4.0 * input.shape[0] * l * l * clip.q_proj.weight!.shape[0];
                    return output;
                }).remove);
                break;
        }
    }

    public void Dispose()
    {
        foreach (var remove in removers) remove();
        removers.Clear();
    }
}
