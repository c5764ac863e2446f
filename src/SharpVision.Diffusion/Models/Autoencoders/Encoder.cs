using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn;
using TorchSharp.Modules;
using GroupNorm = SharpVision.Nn.Normalization.GroupNorm;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// The convolutional encoder of diffusers' VQModel and AutoencoderKL: conv_in, one <see cref="DownEncoderBlock2D"/> per
/// entry of block_out_channels (all but the last halve the resolution), a mid block (resnet, attention, resnet),
/// GroupNorm, SiLU and conv_out to the latent channels (doubled for a Gaussian's mean and log-variance).
/// Follows diffusers models/autoencoders/vae.py <c>Encoder</c>.
/// </summary>
public sealed class Encoder : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv_in;
    public readonly ModuleList<DownEncoderBlock2D> down_blocks;
    public readonly UNetMidBlock2D mid_block;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;

    readonly long in_channels;

    /// <param name="inChannels">Image channels.</param>
    /// <param name="outChannels">Latent channels (the output has twice as many with <paramref name="doubleZ"/>).</param>
    /// <param name="downBlockTypes">One per stage.</param>
    /// <param name="blockOutChannels">Width of each stage; as many as <paramref name="downBlockTypes"/>.</param>
    /// <param name="layersPerBlock">Resnets per stage.</param>
    /// <param name="normNumGroups">GroupNorm groups everywhere.</param>
    /// <param name="act">Activation inside the resnets (the final activation is always SiLU, as in the reference).</param>
    /// <param name="doubleZ">Output 2 × outChannels (mean and log-variance).</param>
    /// <param name="midBlockAddAttention">Attention in the mid block.</param>
    /// <exception cref="ArgumentException">List lengths differ or are empty.</exception>
    public Encoder(long inChannels, long outChannels, IReadOnlyList<EncoderBlockType> downBlockTypes, IReadOnlyList<int> blockOutChannels,
        int layersPerBlock = 2, int normNumGroups = 32, ActivationFunction act = ActivationFunction.Silu, bool doubleZ = true,
        bool midBlockAddAttention = true) : base(nameof(Encoder))
    {
        ArgumentNullException.ThrowIfNull(downBlockTypes);
        ArgumentNullException.ThrowIfNull(blockOutChannels);
        if (blockOutChannels.Count == 0 || blockOutChannels.Count != downBlockTypes.Count)
            throw new ArgumentException($"block_out_channels ({blockOutChannels.Count}) must be non-empty and match down_block_types ({downBlockTypes.Count})", nameof(blockOutChannels));
        in_channels = inChannels;
        var resnet = new ResnetSettings(TembChannels: null, Eps: 1e-6, Groups: normNumGroups, Act: act);

        conv_in = nn.Conv2d(inChannels, blockOutChannels[0], 3, stride: 1, padding: 1);
        down_blocks = new ModuleList<DownEncoderBlock2D>();
        long prev = blockOutChannels[0];
        for (int i = 0; i < blockOutChannels.Count; i++)
        {
            bool last = i == blockOutChannels.Count - 1;
            // Encoder downsamplers pad asymmetrically (padding 0 plus a zero row/column), like the taming VQGAN they come from.
            down_blocks.append(new DownEncoderBlock2D(prev, blockOutChannels[i], resnet, layersPerBlock, addDownsample: !last, downsamplePadding: 0));
            prev = blockOutChannels[i];
        }
        mid_block = new UNetMidBlock2D(prev, resnet, numLayers: 1, attentionHeadDim: prev, addAttention: midBlockAddAttention);
        conv_norm_out = new GroupNorm(normNumGroups, (int)prev, 1e-6);
        conv_out = nn.Conv2d(prev, doubleZ ? 2 * outChannels : outChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="sample">(B, C_in, H, W) image.</param>
    /// <returns>(B, C_latent or 2·C_latent, H / 2^(stages−1), W / 2^(stages−1)).</returns>
    /// <exception cref="ArgumentException">The sample is not (B, C_in, H, W).</exception>
    public override Tensor forward(Tensor sample)
    {
        Shapes.RequireRank(sample, 4, $"(B, {in_channels}, H, W)", nameof(sample));
        Shapes.RequireDim(sample, 1, in_channels, $"(B, {in_channels}, H, W)", nameof(sample));
        using var scope = torch.NewDisposeScope();
        var h = conv_in.call(sample);
        foreach (var block in down_blocks) h = block.call(h);
        h = mid_block.call(h, null);
        h = nn.functional.silu(conv_norm_out.call(h));
        return conv_out.call(h).MoveToOuterDisposeScope();
    }
}
