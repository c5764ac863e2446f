using SharpVision.Nn;
using GroupNorm = SharpVision.Nn.Normalization.GroupNorm;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Spatial transformer for continuous (B, C, H, W) inputs: GroupNorm, projection in (1×1 convolution, or a linear layer on
/// tokens with <c>use_linear_projection</c>), <see cref="BasicTransformerBlock"/>s over the H·W tokens, projection out,
/// plus the input. Follows diffusers models/transformers/transformer_2d.py <c>Transformer2DModel</c> (continuous input only).
/// </summary>
public sealed class Transformer2DModel : nn.Module<Tensor, Tensor?, Tensor>
{
    public readonly GroupNorm norm;
    /// <summary>Conv2d 1×1 or Linear, C → heads · head_dim.</summary>
    public readonly nn.Module<Tensor, Tensor> proj_in;
    public readonly TorchSharp.Modules.ModuleList<BasicTransformerBlock> transformer_blocks;
    /// <summary>Conv2d 1×1 or Linear, heads · head_dim → C.</summary>
    public readonly nn.Module<Tensor, Tensor> proj_out;

    readonly long in_channels;
    readonly long inner_dim;
    readonly bool use_linear_projection;

    /// <param name="numAttentionHeads">Heads.</param>
    /// <param name="attentionHeadDim">Width of one head; inner width = heads · head_dim.</param>
    /// <param name="inChannels">C of the input and output.</param>
    /// <param name="numLayers">Number of transformer blocks.</param>
    /// <param name="crossAttentionDim">Width of the encoder states.</param>
    /// <param name="normNumGroups">Groups of the input GroupNorm (eps 1e-6, as in the reference).</param>
    /// <param name="useLinearProjection">Project tokens with linear layers instead of 1×1 convolutions.</param>
    public Transformer2DModel(long numAttentionHeads, long attentionHeadDim, long inChannels, int numLayers = 1, long? crossAttentionDim = null,
        long normNumGroups = 32, bool useLinearProjection = false, double dropout = 0.0, bool attentionBias = false)
        : base(nameof(Transformer2DModel))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        in_channels = inChannels;
        inner_dim = numAttentionHeads * attentionHeadDim;
        use_linear_projection = useLinearProjection;
        norm = new GroupNorm((int)normNumGroups, (int)inChannels, 1e-6);
        proj_in = useLinearProjection ? nn.Linear(inChannels, inner_dim) : nn.Conv2d(inChannels, inner_dim, 1, stride: 1, padding: 0L);
        transformer_blocks = new TorchSharp.Modules.ModuleList<BasicTransformerBlock>();
        for (int i = 0; i < numLayers; i++)
            transformer_blocks.append(new BasicTransformerBlock(inner_dim, numAttentionHeads, attentionHeadDim, crossAttentionDim, dropout, attentionBias));
        proj_out = useLinearProjection ? nn.Linear(inner_dim, inChannels) : nn.Conv2d(inner_dim, inChannels, 1, stride: 1, padding: 0L);
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C, H, W).</param>
    /// <param name="encoderHiddenStates">(B, M, C_cross) or null.</param>
    /// <returns>(B, C, H, W).</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        Shapes.RequireRank(hiddenStates, 4, $"(B, {in_channels}, H, W)", nameof(hiddenStates));
        Shapes.RequireDim(hiddenStates, 1, in_channels, $"(B, {in_channels}, H, W)", nameof(hiddenStates));
        using var scope = torch.NewDisposeScope();
        long b = hiddenStates.shape[0], height = hiddenStates.shape[2], width = hiddenStates.shape[3];
        var h = norm.call(hiddenStates);
        if (use_linear_projection)
        {
            h = h.permute(0, 2, 3, 1).reshape(b, height * width, in_channels); // (B, HW, C)
            h = proj_in.call(h); // (B, HW, inner)
        }
        else
        {
            h = proj_in.call(h); // (B, inner, H, W)
            h = h.permute(0, 2, 3, 1).reshape(b, height * width, inner_dim); // (B, HW, inner)
        }
        foreach (var block in transformer_blocks) h = block.call(h, encoderHiddenStates);
        if (use_linear_projection)
        {
            h = proj_out.call(h); // (B, HW, C)
            h = h.reshape(b, height, width, in_channels).permute(0, 3, 1, 2); // (B, C, H, W)
        }
        else
        {
            h = h.reshape(b, height, width, inner_dim).permute(0, 3, 1, 2).contiguous(); // (B, inner, H, W)
            h = proj_out.call(h); // (B, C, H, W)
        }
        return (h + hiddenStates).MoveToOuterDisposeScope();
    }
}
