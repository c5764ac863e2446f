namespace SharpVision.Diffusion.Models.Blocks;

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
