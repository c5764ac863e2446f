using TorchSharp.Modules;

namespace SharpVision.Nn.Flops;

/// <summary>What <see cref="FlopCounter"/> measured.</summary>
/// <param name="MultiplyAccumulates">Total multiply-accumulates.</param>
/// <param name="ByModule">Multiply-accumulates per counted module, by its name under the root (e.g. <c>layers.1.blocks.0.attn.qkv</c>).</param>
public sealed record FlopCount(long MultiplyAccumulates, IReadOnlyDictionary<string, long> ByModule)
{
    /// <summary>Floating-point operations, counting a multiply-accumulate as two.</summary>
    public long Flops => 2 * MultiplyAccumulates;

    /// <summary>Multiply-accumulates summed by the first <paramref name="depth"/> parts of the module names (depth 1: <c>patch_embed</c>, <c>layers</c>, <c>neck</c>).</summary>
    public IReadOnlyDictionary<string, long> Grouped(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        return ByModule.GroupBy(kv => string.Join('.', kv.Key.Split('.').Take(depth)))
            .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
    }
}

/// <summary>
/// Counts the multiply-accumulates of one forward pass with forward hooks: every <c>Linear</c> and <see cref="Layers.OneDnnLinear"/>
/// (output elements × in_features), every <c>Conv2d</c> (output elements × in_channels / groups × kernel
/// area, depthwise convolutions included) and every module implementing <see cref="IMatmulFlops"/>
/// (attention's activation products). Normalization, activations, softmax, bias additions and
/// element-wise sums are not counted (the usual convention of fvcore and the papers' "FLOPs", which
/// report these multiply-accumulates).
/// </summary>
/// <remarks>
/// Hooks fire only for modules run through <c>call</c> (TorchSharp's <c>forward</c> skips them): count
/// models whose submodules are invoked with <c>call</c>, as <c>TinyViT</c>'s are.
/// </remarks>
public static class FlopCounter
{
    /// <summary>Runs <paramref name="module"/> once on <paramref name="input"/> (no_grad) and counts its multiply-accumulates.</summary>
    /// <param name="module">The model; its hooks are removed afterwards.</param>
    /// <param name="input">The input of the forward pass, e.g. (1, 3, 1024, 1024).</param>
    public static FlopCount Count(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        return Count(module, () => module.call(input));
    }

    /// <summary>
    /// Counts the multiply-accumulates of whatever <paramref name="forward"/> runs (no_grad) through the layers of
    /// <paramref name="model"/>; for models with several inputs (a UNet's sample, timestep and text states). Tensors the
    /// call returns stay alive.
    /// </summary>
    /// <param name="model">The model; its hooks are removed afterwards.</param>
    public static FlopCount Count(nn.Module model, Action forward)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(forward);
        var byModule = new Dictionary<string, long>(StringComparer.Ordinal);
        var removers = new List<Action>();
        void Add(string name, long macs) => byModule[name] = byModule.GetValueOrDefault(name) + macs;
        foreach (var (name, m) in model.named_modules().Append(("", model)))
        {
            if (m is nn.Module<Tensor, Tensor?, Tensor> twoInputs && m is IMatmulFlops products)
            {
                removers.Add(twoInputs.register_forward_hook((_, x, context, y) => { Add(name, products.MatmulMacs(x, context)); return y; }).remove);
                continue;
            }
            if (m is not nn.Module<Tensor, Tensor> hookable) continue;
            Func<Tensor, Tensor, long>? macs = m switch
            {
                Linear linear => (_, output) => output.numel() * linear.weight!.shape[1],
                Layers.OneDnnLinear linear => (_, output) => output.numel() * linear.in_features,
                Conv2d conv => (_, output) => output.numel() * conv.weight!.shape[1] * conv.weight.shape[2] * conv.weight.shape[3],
                IMatmulFlops matmul => (inputTensor, _) => matmul.MatmulMacs(inputTensor, null),
                _ => null,
            };
            if (macs is null) continue;
            var remover = hookable.register_forward_hook((_, x, y) => { Add(name, macs(x, y)); return null!; });
            removers.Add(remover.remove);
        }
        try
        {
            using var noGrad = no_grad();
            forward();
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return new FlopCount(byModule.Values.Sum(), byModule);
    }
}
