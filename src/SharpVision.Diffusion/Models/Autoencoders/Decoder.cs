using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn;
using TorchSharp.Modules;
using GroupNorm = SharpVision.Nn.Normalization.GroupNorm;

namespace SharpVision.Diffusion.Models.Autoencoders;

/// <summary>
/// The convolutional decoder of diffusers' VQModel and AutoencoderKL, the encoder's mirror: conv_in to the widest
/// stage, a mid block, one <see cref="UpDecoderBlock2D"/> per stage in reverse width order (layers_per_block + 1
/// resnets each; all but the last double the resolution), GroupNorm, SiLU and conv_out.
/// Follows diffusers models/autoencoders/vae.py <c>Decoder</c> with norm_type "group".
/// </summary>
public sealed class Decoder : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv_in;
    public readonly UNetMidBlock2D mid_block;
    public readonly ModuleList<UpDecoderBlock2D> up_blocks;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;

    readonly long in_channels;

    /// <param name="inChannels">Latent channels.</param>
    /// <param name="outChannels">Image channels.</param>
    /// <param name="upBlockTypes">One per stage.</param>
    /// <param name="blockOutChannels">The encoder's stage widths (in encoder order; used reversed).</param>
    /// <param name="layersPerBlock">The encoder's resnets per stage; each decoder stage has one more.</param>
    /// <param name="normNumGroups">GroupNorm groups.</param>
    /// <param name="act">Activation inside the resnets (the final one is SiLU, as in the reference).</param>
    /// <param name="normType">Only <see cref="DecoderNormType.Group"/> is supported.</param>
    /// <param name="midBlockAddAttention">Attention in the mid block.</param>
    /// <exception cref="ArgumentException">List lengths differ or are empty, or norm_type spatial.</exception>
    public Decoder(long inChannels, long outChannels, IReadOnlyList<DecoderBlockType> upBlockTypes, IReadOnlyList<int> blockOutChannels,
        int layersPerBlock = 2, int normNumGroups = 32, ActivationFunction act = ActivationFunction.Silu,
        DecoderNormType normType = DecoderNormType.Group, bool midBlockAddAttention = true) : base(nameof(Decoder))
    {
        ArgumentNullException.ThrowIfNull(upBlockTypes);
        ArgumentNullException.ThrowIfNull(blockOutChannels);
        if (blockOutChannels.Count == 0 || blockOutChannels.Count != upBlockTypes.Count)
            throw new ArgumentException($"block_out_channels ({blockOutChannels.Count}) must be non-empty and match up_block_types ({upBlockTypes.Count})", nameof(blockOutChannels));
        if (normType != DecoderNormType.Group)
            throw new ArgumentException($"norm_type '{ExactNameEnumConverter<DecoderNormType>.NameOf(normType)}' (MoVQ SpatialNorm) is not supported; allowed: group", nameof(normType));
        in_channels = inChannels;
        var resnet = new ResnetSettings(TembChannels: null, Eps: 1e-6, Groups: normNumGroups, Act: act);
        long widest = blockOutChannels[^1];

        conv_in = nn.Conv2d(inChannels, widest, 3, stride: 1, padding: 1);
        mid_block = new UNetMidBlock2D(widest, resnet, numLayers: 1, attentionHeadDim: widest, addAttention: midBlockAddAttention);
        up_blocks = new ModuleList<UpDecoderBlock2D>();
        long prev = widest;
        for (int i = 0; i < blockOutChannels.Count; i++)
        {
            long outCh = blockOutChannels[blockOutChannels.Count - 1 - i];
            up_blocks.append(new UpDecoderBlock2D(prev, outCh, resnet, layersPerBlock + 1, addUpsample: i != blockOutChannels.Count - 1));
            prev = outCh;
        }
        conv_norm_out = new GroupNorm(normNumGroups, blockOutChannels[0], 1e-6);
        conv_out = nn.Conv2d(blockOutChannels[0], outChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="z">(B, C_latent, h, w) latents.</param>
    /// <returns>(B, C_out, h·2^(stages−1), w·2^(stages−1)).</returns>
    /// <exception cref="ArgumentException">z is not (B, C_latent, h, w).</exception>
    public override Tensor forward(Tensor z)
    {
        Shapes.RequireRank(z, 4, $"(B, {in_channels}, h, w)", nameof(z));
        Shapes.RequireDim(z, 1, in_channels, $"(B, {in_channels}, h, w)", nameof(z));
        using var scope = torch.NewDisposeScope();
        var h = conv_in.call(z);
        h = mid_block.call(h, null);
        foreach (var block in up_blocks) h = block.call(h);
        h = nn.functional.silu(conv_norm_out.call(h));
        return conv_out.call(h).MoveToOuterDisposeScope();
    }
}
