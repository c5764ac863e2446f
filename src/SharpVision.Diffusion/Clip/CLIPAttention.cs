using SharpVision.Nn.Flops;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// Multi-head self-attention with separate q/k/v projections (transformers models/clip/modeling_clip.py
/// <c>CLIPAttention</c>): softmax(q·kᵀ/√head_dim + mask)·v, then <c>out_proj</c>. The text model always attends
/// causally; a padding mask can be added.
/// </summary>
public sealed class CLIPAttention : nn.Module<Tensor, Tensor?, Tensor>, IMatmulFlops
{
    public readonly Linear k_proj;
    public readonly Linear v_proj;
    public readonly Linear q_proj;
    public readonly Linear out_proj;

    readonly long num_heads;

    public CLIPAttention(long hiddenSize, long numHeads) : base(nameof(CLIPAttention))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        if (hiddenSize % numHeads != 0)
            throw new ArgumentException($"hiddenSize ({hiddenSize}) must be divisible by numHeads ({numHeads})", nameof(numHeads));
        k_proj = nn.Linear(hiddenSize, hiddenSize);
        v_proj = nn.Linear(hiddenSize, hiddenSize);
        q_proj = nn.Linear(hiddenSize, hiddenSize);
        out_proj = nn.Linear(hiddenSize, hiddenSize);
        num_heads = numHeads;
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, L, D).</param>
    /// <param name="attentionMask">(B, 1, L, L) bool, true where a query may attend a key; null: causal attention.</param>
    /// <returns>(B, L, D).</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor? attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        long b = hiddenStates.shape[0], l = hiddenStates.shape[1], d = hiddenStates.shape[2], headDim = d / num_heads;
        var q = q_proj.call(hiddenStates).view(b, l, num_heads, headDim).transpose(1, 2); // (B, heads, L, head_dim)
        var k = k_proj.call(hiddenStates).view(b, l, num_heads, headDim).transpose(1, 2); // (B, heads, L, head_dim)
        var v = v_proj.call(hiddenStates).view(b, l, num_heads, headDim).transpose(1, 2); // (B, heads, L, head_dim)
        var attn = attentionMask is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true) // TorchSharp spells the parameter is_casual
            : nn.functional.scaled_dot_product_attention(q, k, v, attentionMask);
        attn = attn.transpose(1, 2).reshape(b, l, d); // (B, L, D)
        return out_proj.call(attn).MoveToOuterDisposeScope();
    }

    /// <summary>q kᵀ and weights·v over all L² pairs (the causal mask's skipped half included): 2 · B · L² · D multiply-accumulates.</summary>
    /// <param name="input">(B, L, D).</param>
    /// <param name="context">The attention mask; it does not change the count.</param>
    public long MatmulMacs(Tensor input, Tensor? context) => 2 * input.shape[0] * input.shape[1] * input.shape[1] * q_proj.weight!.shape[0];
}
