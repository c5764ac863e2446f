using static TorchSharp.torch;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>What a UNet down block returns: the block's output and every intermediate state for the skip connections.</summary>
/// <param name="Sample">(B, C_out, H', W') the output (downsampled unless it is the last block).</param>
/// <param name="ResSamples">One state per resnet (after its attention) and one per downsampler, in order.</param>
public sealed record DownBlockOutput(Tensor Sample, IReadOnlyList<Tensor> ResSamples);

/// <summary>A UNet encoder stage (DownBlock2D, AttnDownBlock2D, ResnetDownsampleBlock2D).</summary>
public interface IDownBlock2D
{
    /// <param name="hiddenStates">(B, C_in, H, W).</param>
    /// <param name="temb">(B, temb_channels) time embedding.</param>
    DownBlockOutput forward(Tensor hiddenStates, Tensor? temb);
}

/// <summary>A UNet decoder stage (UpBlock2D, AttnUpBlock2D, ResnetUpsampleBlock2D).</summary>
public interface IUpBlock2D
{
    /// <summary>How many skip states the block consumes (its number of resnets).</summary>
    int NumResnets { get; }

    /// <param name="hiddenStates">(B, C_prev, H, W).</param>
    /// <param name="resHiddenStates">The skip states, last one consumed first (<see cref="NumResnets"/> of them).</param>
    /// <param name="temb">(B, temb_channels).</param>
    /// <param name="upsampleSize">Target (H', W') of the upsampler instead of doubling, or null.</param>
    /// <returns>(B, C_out, 2H, 2W), or (B, C_out, H, W) for the last block.</returns>
    Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb, long[]? upsampleSize = null);
}

/// <summary>Arguments shared by every resnet of a UNet block (the block's <c>resnet_*</c> parameters).</summary>
/// <param name="TembChannels">Width of the time embedding, or null for none.</param>
/// <param name="Eps">GroupNorm epsilon.</param>
/// <param name="Groups">GroupNorm groups.</param>
/// <param name="Dropout">Dropout inside each resnet.</param>
/// <param name="Act">Activation.</param>
/// <param name="TimeScaleShift">How the embedding enters.</param>
/// <param name="OutputScaleFactor">Each resnet's (and attention's) output divisor.</param>
/// <param name="SkipTimeAct">Project the embedding without activating it first.</param>
public sealed record ResnetSettings(
    long? TembChannels = 512,
    double Eps = 1e-6,
    long Groups = 32,
    double Dropout = 0.0,
    ActivationFunction Act = ActivationFunction.Silu,
    ResnetTimeScaleShift TimeScaleShift = ResnetTimeScaleShift.Default,
    double OutputScaleFactor = 1.0,
    bool SkipTimeAct = false)
{
    /// <summary>A resnet with these settings.</summary>
    public ResnetBlock2D Create(long inChannels, long outChannels, bool up = false, bool down = false) =>
        new(inChannels, outChannels, TembChannels, Dropout, Groups, eps: Eps, nonLinearity: Act, skipTimeAct: SkipTimeAct,
            timeEmbeddingNorm: TimeScaleShift, outputScaleFactor: OutputScaleFactor, up: up, down: down);

    /// <summary>The self-attention UNet2D blocks put after each resnet: GroupNorm, residual, heads = C / head_dim.</summary>
    /// <exception cref="ArgumentException">head_dim is not positive or exceeds the channels.</exception>
    public Attention CreateAttention(long channels, long attentionHeadDim, long? normGroups)
    {
        if (attentionHeadDim <= 0 || attentionHeadDim > channels)
            throw new ArgumentException($"attention_head_dim ({attentionHeadDim}) must be in 1..{channels} (the block's channels)", nameof(attentionHeadDim));
        // Like the reference, heads = C // head_dim; the inner width heads * head_dim may then differ from C.
        return new Attention(channels, heads: channels / attentionHeadDim, dimHead: attentionHeadDim, bias: true,
            normNumGroups: normGroups, eps: Eps, residualConnection: true, rescaleOutputFactor: OutputScaleFactor);
    }
}
