using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet encoder stage of (resnet, spatial transformer with cross-attention) pairs, then a strided-convolution downsampler
/// (unless last). Follows diffusers models/unets/unet_2d_blocks.py <c>CrossAttnDownBlock2D</c> (no dual cross-attention,
/// no adapter residuals).
/// </summary>
public sealed class CrossAttnDownBlock2D : nn.Module<Tensor, Tensor?, Tensor?, DownBlockOutput>
{
    public readonly ModuleList<Transformer2DModel> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Downsample2D>? downsamplers;

    /// <param name="numLayers">Number of (resnet, transformer) pairs.</param>
    /// <param name="transformer">Heads, cross-attention width and layers of each transformer.</param>
    /// <param name="addDownsample">Append a stride-2 convolution.</param>
    public CrossAttnDownBlock2D(long inChannels, long outChannels, ResnetSettings resnet, TransformerSettings transformer, int numLayers = 1,
        bool addDownsample = true, long downsamplePadding = 1) : base(nameof(CrossAttnDownBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        ArgumentNullException.ThrowIfNull(transformer);
        attentions = new ModuleList<Transformer2DModel>();
        resnets = new ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++)
        {
            resnets.append(resnet.Create(i == 0 ? inChannels : outChannels, outChannels));
            attentions.append(transformer.Create(outChannels, resnet.Groups));
        }
        if (addDownsample)
            downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, useConv: true, outChannels: outChannels, padding: downsamplePadding));
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, C_in, H, W).</param>
    /// <param name="temb">(B, temb_channels).</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim).</param>
    public override DownBlockOutput forward(Tensor hiddenStates, Tensor? temb, Tensor? encoderHiddenStates)
    {
        var states = new List<Tensor>();
        var h = hiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            h = resnets[i].call(h, temb);
            h = attentions[i].call(h, encoderHiddenStates);
            states.Add(h);
        }
        if (downsamplers is not null)
        {
            foreach (var down in downsamplers) h = down.call(h);
            states.Add(h);
        }
        return new DownBlockOutput(h, states);
    }
}
