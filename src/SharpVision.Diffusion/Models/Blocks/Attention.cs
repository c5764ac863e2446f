using SharpVision.Nn;
using SharpVision.Nn.Flops;
using GroupNorm = SharpVision.Nn.Normalization.GroupNorm;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Multi-head (self- or cross-) attention with diffusers' parameter names: optional <c>group_norm</c> over channels,
/// <c>to_q</c>/<c>to_k</c>/<c>to_v</c>, <c>to_out.0</c> (+ dropout <c>to_out.1</c>), optional residual connection and
/// output rescaling. Image inputs (B, C, H, W) attend over the H·W positions. Follows diffusers
/// models/attention_processor.py <c>Attention</c> with <c>AttnProcessor2_0</c> (no masks, spatial norm, cross norm
/// or QK norm), the form UNet2DModel, VQModel and AutoencoderKL use.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor?, Tensor>, IMatmulFlops
{
    public readonly GroupNorm? group_norm;
    public readonly Linear to_q;
    public readonly Linear to_k;
    public readonly Linear to_v;
    /// <summary>[Linear(inner, out), Dropout].</summary>
    public readonly ModuleList<nn.Module<Tensor, Tensor>> to_out;

    readonly long query_dim;
    readonly long cross_attention_dim;
    readonly long heads;
    readonly bool residual_connection;
    readonly double rescale_output_factor;

    /// <summary>Number of heads.</summary>
    public long Heads => heads;

    /// <param name="queryDim">Channels C of the query input.</param>
    /// <param name="crossAttentionDim">Channels of encoder states for cross-attention (default: C, self-attention).</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="dimHead">Width of one head; inner width = heads · dimHead.</param>
    /// <param name="bias">Bias on to_q/to_k/to_v.</param>
    /// <param name="normNumGroups">GroupNorm over the query channels before the projections; null for none.</param>
    /// <param name="eps">Epsilon of that GroupNorm.</param>
    /// <param name="residualConnection">Add the (un-normalised) input to the output.</param>
    /// <param name="rescaleOutputFactor">Divide the output (after the residual) by this.</param>
    /// <param name="outDim">Output width (default C).</param>
    public Attention(long queryDim, long? crossAttentionDim = null, long heads = 8, long dimHead = 64, double dropout = 0.0,
        bool bias = false, long? normNumGroups = null, double eps = 1e-5, bool residualConnection = false,
        double rescaleOutputFactor = 1.0, long? outDim = null, bool outBias = true) : base(nameof(Attention))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimHead);
        long inner = heads * dimHead;
        long kvDim = crossAttentionDim ?? queryDim;
        query_dim = queryDim;
        cross_attention_dim = kvDim;
        this.heads = heads;
        residual_connection = residualConnection;
        rescale_output_factor = rescaleOutputFactor;
        if (normNumGroups is long g) group_norm = new GroupNorm((int)g, (int)queryDim, eps);
        to_q = nn.Linear(queryDim, inner, hasBias: bias);
        to_k = nn.Linear(kvDim, inner, hasBias: bias);
        to_v = nn.Linear(kvDim, inner, hasBias: bias);
        to_out = new ModuleList<nn.Module<Tensor, Tensor>>(nn.Linear(inner, outDim ?? queryDim, hasBias: outBias), nn.Dropout(dropout));
        RegisterComponents();
    }

    /// <summary>Self-attention.</summary>
    /// <param name="hiddenStates">(B, C, H, W) or (B, N, C).</param>
    public Tensor forward(Tensor hiddenStates) => forward(hiddenStates, null);

    /// <param name="hiddenStates">(B, C, H, W) image or (B, N, C) tokens.</param>
    /// <param name="encoderHiddenStates">(B, M, C_cross) keys/values for cross-attention; null for self-attention.</param>
    /// <returns>The input's shape (with C_out channels).</returns>
    /// <exception cref="ArgumentException">Rank other than 3 or 4, the wrong channel count, or encoder states not (B, M, C_cross).</exception>
    public override Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        ArgumentNullException.ThrowIfNull(hiddenStates);
        bool image = hiddenStates.dim() == 4;
        if (image) Shapes.RequireDim(hiddenStates, 1, query_dim, $"(B, {query_dim}, H, W)", nameof(hiddenStates));
        else if (hiddenStates.dim() == 3) Shapes.RequireDim(hiddenStates, 2, query_dim, $"(B, N, {query_dim})", nameof(hiddenStates));
        else throw new ArgumentException($"hiddenStates must be (B, {query_dim}, H, W) or (B, N, {query_dim}); got {Shapes.Format(hiddenStates)}", nameof(hiddenStates));

        if (encoderHiddenStates is not null &&
            (encoderHiddenStates.dim() != 3 || encoderHiddenStates.shape[0] != hiddenStates.shape[0] || encoderHiddenStates.shape[2] != cross_attention_dim))
            throw new ArgumentException($"encoderHiddenStates must be ({hiddenStates.shape[0]}, M, {cross_attention_dim}); got {Shapes.Format(encoderHiddenStates)}", nameof(encoderHiddenStates));

        using var scope = torch.NewDisposeScope();
        var residual = hiddenStates;
        long b = hiddenStates.shape[0];
        var x = image
            ? hiddenStates.view(b, query_dim, -1).transpose(1, 2) // (B, HW, C)
            : hiddenStates;
        if (group_norm is not null)
            x = group_norm.call(x.transpose(1, 2)).transpose(1, 2); // normalise over (C, N), back to (B, N, C)
        var context = encoderHiddenStates ?? x;

        var q = to_q.call(x);
        var k = to_k.call(context);
        var v = to_v.call(context);
        long headDim = k.shape[^1] / heads;
        q = q.view(b, -1, heads, headDim).transpose(1, 2); // (B, heads, N, head_dim)
        k = k.view(b, -1, heads, headDim).transpose(1, 2); // (B, heads, M, head_dim)
        v = v.view(b, -1, heads, headDim).transpose(1, 2); // (B, heads, M, head_dim)
        var attn = nn.functional.scaled_dot_product_attention(q, k, v); // softmax(q kᵀ / √head_dim) v
        attn = attn.transpose(1, 2).reshape(b, -1, heads * headDim); // (B, N, inner)
        var output = to_out[1].call(to_out[0].call(attn)); // (B, N, C_out)
        if (image)
        {
            output = output.transpose(-1, -2).reshape(b, -1, hiddenStates.shape[2], hiddenStates.shape[3]); // (B, C_out, H, W)
        }
        if (residual_connection) output = output + residual;
        if (rescale_output_factor != 1.0) output = output / rescale_output_factor;
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>q kᵀ and weights·v: 2 · B · N · M · inner multiply-accumulates (M = N for self-attention).</summary>
    /// <param name="input">(B, C, H, W) image or (B, N, C) tokens.</param>
    /// <param name="context">(B, M, C_cross) keys/values for cross-attention; null for self-attention.</param>
    public long MatmulMacs(Tensor input, Tensor? context)
    {
        long n = input.dim() == 4 ? input.shape[2] * input.shape[3] : input.shape[1];
        return 2 * input.shape[0] * n * (context?.shape[1] ?? n) * to_q.weight!.shape[0];
    }
}
