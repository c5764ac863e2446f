using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// Encodes the condition image (edges, depth, pose…) to the UNet's first feature map: a 3×3 convolution, then per stage a
/// 3×3 convolution and a stride-2 3×3 convolution (SiLU after each), and a zero-initialised 3×3 convolution out. With n
/// stage widths the image is downsampled by 2^(n-1). Follows diffusers models/controlnets/controlnet.py
/// <c>ControlNetConditioningEmbedding</c>.
/// </summary>
public sealed class ControlNetConditioningEmbedding : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv_in;
    /// <summary>Pairs (same-width conv, stride-2 widening conv) per stage transition.</summary>
    public readonly ModuleList<Conv2d> blocks;
    public readonly ZeroConv conv_out;

    readonly long conditioning_channels;

    /// <summary>Channels of the condition image.</summary>
    public long ConditioningChannels => conditioning_channels;

    /// <summary>Factor by which the condition image is larger than the UNet sample (2^(stages-1)).</summary>
    public int DownsampleFactor { get; }

    /// <param name="conditioningEmbeddingChannels">Output channels (the UNet's block_out_channels[0]).</param>
    /// <param name="conditioningChannels">Channels of the condition image (3 for RGB).</param>
    /// <param name="blockOutChannels">Widths of the stages (diffusers' default (16, 32, 96, 256)).</param>
    public ControlNetConditioningEmbedding(long conditioningEmbeddingChannels, long conditioningChannels = 3, IReadOnlyList<int>? blockOutChannels = null)
        : base(nameof(ControlNetConditioningEmbedding))
    {
        var widths = blockOutChannels ?? [16, 32, 96, 256];
        if (widths.Count == 0) throw new ArgumentException("conditioning_embedding_out_channels must not be empty", nameof(blockOutChannels));
        conditioning_channels = conditioningChannels;
        conv_in = nn.Conv2d(conditioningChannels, widths[0], 3, padding: 1);
        blocks = new ModuleList<Conv2d>();
        for (int i = 0; i < widths.Count - 1; i++)
        {
            blocks.append(nn.Conv2d(widths[i], widths[i], 3, padding: 1));
            blocks.append(nn.Conv2d(widths[i], widths[i + 1], 3, stride: 2, padding: 1));
        }
        conv_out = new ZeroConv(widths[^1], conditioningEmbeddingChannels, kernelSize: 3);
        DownsampleFactor = 1 << (widths.Count - 1);
        RegisterComponents();
    }

    /// <param name="conditioning">(B, conditioning_channels, H, W).</param>
    /// <returns>(B, embedding_channels, H / f, W / f) with f = <see cref="DownsampleFactor"/> (rounded up).</returns>
    public override Tensor forward(Tensor conditioning)
    {
        Shapes.RequireRank(conditioning, 4, $"(B, {conditioning_channels}, H, W)", nameof(conditioning));
        Shapes.RequireDim(conditioning, 1, conditioning_channels, $"(B, {conditioning_channels}, H, W)", nameof(conditioning));
        using var scope = torch.NewDisposeScope();
        var h = nn.functional.silu(conv_in.call(conditioning));
        foreach (var block in blocks) h = nn.functional.silu(block.call(h));
        return conv_out.call(h).MoveToOuterDisposeScope();
    }
}
