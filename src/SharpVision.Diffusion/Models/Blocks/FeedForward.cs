using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Gated GELU: one projection to twice the width, split into value and gate, <c>value · gelu(gate)</c> (exact GELU).
/// Follows diffusers models/activations.py <c>GEGLU</c>.
/// </summary>
public sealed class GEGLU : nn.Module<Tensor, Tensor>
{
    public readonly Linear proj;

    /// <param name="dimIn">Input width.</param>
    /// <param name="dimOut">Output width (the projection is 2 · dimOut wide).</param>
    public GEGLU(long dimIn, long dimOut, bool bias = true) : base(nameof(GEGLU))
    {
        proj = nn.Linear(dimIn, 2 * dimOut, hasBias: bias);
        RegisterComponents();
    }

    /// <param name="hiddenStates">(..., dimIn).</param>
    /// <returns>(..., dimOut).</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var parts = proj.call(hiddenStates).chunk(2, -1); // value, gate: (..., dimOut) each
        return (parts[0] * nn.functional.gelu(parts[1])).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The transformer block's feed-forward: <c>net.0</c> GEGLU to mult · dim, <c>net.1</c> dropout, <c>net.2</c> linear back.
/// Follows diffusers models/attention.py <c>FeedForward</c> with <c>activation_fn="geglu"</c> and no final dropout.
/// </summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    /// <summary>[GEGLU, Dropout, Linear].</summary>
    public readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    /// <param name="dim">Input width.</param>
    /// <param name="dimOut">Output width (default dim).</param>
    /// <param name="mult">Hidden width = mult · dim.</param>
    public FeedForward(long dim, long? dimOut = null, long mult = 4, double dropout = 0.0, bool bias = true) : base(nameof(FeedForward))
    {
        long inner = dim * mult;
        net = new ModuleList<nn.Module<Tensor, Tensor>>(new GEGLU(dim, inner, bias), nn.Dropout(dropout), nn.Linear(inner, dimOut ?? dim, hasBias: bias));
        RegisterComponents();
    }

    /// <param name="hiddenStates">(..., dim).</param>
    /// <returns>(..., dimOut).</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var h = hiddenStates;
        foreach (var m in net) h = m.call(h);
        return h.MoveToOuterDisposeScope();
    }
}
