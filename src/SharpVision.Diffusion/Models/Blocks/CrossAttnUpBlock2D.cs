using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet decoder stage of (resnet on running state ⊕ skip state, spatial transformer with cross-attention) pairs, then a
/// nearest-neighbour + convolution upsampler (unless last). Follows diffusers models/unets/unet_2d_blocks.py
/// <c>CrossAttnUpBlock2D</c> (no dual cross-attention, no FreeU).
/// </summary>
public sealed class CrossAttnUpBlock2D : nn.Module<Tensor, IReadOnlyList<Tensor>, Tensor?, Tensor?, Tensor>
{
    public readonly ModuleList<Transformer2DModel> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Upsample2D>? upsamplers;

    /// <param name="inChannels">Channels of the deepest skip state this block consumes.</param>
    /// <param name="prevOutputChannels">Channels of the incoming running state.</param>
    /// <param name="outChannels">This level's width.</param>
    /// <param name="numLayers">Number of pairs (= skip states consumed).</param>
    public CrossAttnUpBlock2D(long inChannels, long prevOutputChannels, long outChannels, ResnetSettings resnet, TransformerSettings transformer,
        int numLayers = 1, bool addUpsample = true) : base(nameof(CrossAttnUpBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        ArgumentNullException.ThrowIfNull(transformer);
        attentions = new ModuleList<Transformer2DModel>();
        resnets = new ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++)
        {
            resnets.append(resnet.Create(UpBlockChannels.ResnetIn(i, numLayers, inChannels, prevOutputChannels, outChannels), outChannels));
            attentions.append(transformer.Create(outChannels, resnet.Groups));
        }
        if (addUpsample) upsamplers = new ModuleList<Upsample2D>(new Upsample2D(outChannels, useConv: true, outChannels: outChannels));
        RegisterComponents();
    }

    /// <summary>How many skip states the block consumes.</summary>
    public int NumResnets => resnets.Count;

    /// <param name="hiddenStates">(B, C_prev, H, W).</param>
    /// <param name="resHiddenStates">Skip states, last one consumed first.</param>
    /// <param name="temb">(B, temb_channels).</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim).</param>
    public override Tensor forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb, Tensor? encoderHiddenStates) =>
        Forward(hiddenStates, resHiddenStates, temb, encoderHiddenStates);

    /// <inheritdoc cref="forward"/>
    /// <param name="upsampleSize">Target (H', W') of the upsampler instead of doubling, or null.</param>
    public Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb, Tensor? encoderHiddenStates, long[]? upsampleSize = null)
    {
        UpBlockChannels.RequireSkips(resHiddenStates, resnets.Count);
        var h = hiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            var skip = resHiddenStates[resHiddenStates.Count - 1 - i];
            h = resnets[i].call(cat([h, skip], dim: 1), temb); // (B, C_h + C_skip, H, W) in
            h = attentions[i].call(h, encoderHiddenStates);
        }
        if (upsamplers is not null)
            foreach (var up in upsamplers) h = up.Forward(h, upsampleSize);
        return h;
    }
}
