using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// UNet decoder stage: each resnet takes the running state concatenated with one skip state, then a nearest-neighbour +
/// convolution upsampler (unless last). Follows diffusers models/unets/unet_2d_blocks.py <c>UpBlock2D</c> (no FreeU).
/// </summary>
public sealed class UpBlock2D : nn.Module<Tensor, IReadOnlyList<Tensor>, Tensor?, Tensor>, IUpBlock2D
{
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Upsample2D>? upsamplers;

    /// <param name="inChannels">Channels of the deepest skip state this block consumes (the next-shallower level's width).</param>
    /// <param name="prevOutputChannels">Channels of the incoming running state.</param>
    /// <param name="outChannels">This level's width.</param>
    /// <param name="numLayers">Number of resnets (= skip states consumed).</param>
    public UpBlock2D(long inChannels, long prevOutputChannels, long outChannels, ResnetSettings resnet, int numLayers = 1, bool addUpsample = true)
        : base(nameof(UpBlock2D))
    {
        ArgumentNullException.ThrowIfNull(resnet);
        resnets = UpBlockChannels.Resnets(resnet, numLayers, inChannels, prevOutputChannels, outChannels);
        if (addUpsample) upsamplers = new ModuleList<Upsample2D>(new Upsample2D(outChannels, useConv: true, outChannels: outChannels));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int NumResnets => resnets.Count;

    /// <inheritdoc cref="IUpBlock2D.Forward"/>
    public override Tensor forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb) =>
        Forward(hiddenStates, resHiddenStates, temb);

    /// <inheritdoc/>
    public Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb, long[]? upsampleSize = null)
    {
        var h = UpBlockChannels.RunResnets(resnets, hiddenStates, resHiddenStates, temb);
        if (upsamplers is not null)
            foreach (var up in upsamplers) h = up.Forward(h, upsampleSize);
        return h;
    }
}

/// <summary>Channel bookkeeping shared by the up blocks.</summary>
internal static class UpBlockChannels
{
    /// <summary>Resnet i's input width: running state (prev output for the first, else out) + its skip state (in for the last, else out).</summary>
    internal static long ResnetIn(int i, int numLayers, long inChannels, long prevOutputChannels, long outChannels)
    {
        long skip = i == numLayers - 1 ? inChannels : outChannels;
        long running = i == 0 ? prevOutputChannels : outChannels;
        return running + skip;
    }

    /// <summary>The block's resnets: resnet i takes the running state concatenated with its skip state.</summary>
    internal static ModuleList<ResnetBlock2D> Resnets(ResnetSettings resnet, int numLayers, long inChannels, long prevOutputChannels, long outChannels)
    {
        var resnets = new ModuleList<ResnetBlock2D>();
        for (int i = 0; i < numLayers; i++)
            resnets.append(resnet.Create(ResnetIn(i, numLayers, inChannels, prevOutputChannels, outChannels), outChannels));
        return resnets;
    }

    /// <summary>Runs the resnets, each on the running state concatenated with its skip state (the last skip first).</summary>
    internal static Tensor RunResnets(ModuleList<ResnetBlock2D> resnets, Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb)
    {
        RequireSkips(resHiddenStates, resnets.Count);
        var h = hiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            var skip = resHiddenStates[resHiddenStates.Count - 1 - i];
            h = resnets[i].call(cat([h, skip], dim: 1), temb); // (B, C_h + C_skip, H, W) in
        }
        return h;
    }

    internal static void RequireSkips(IReadOnlyList<Tensor> resHiddenStates, int count)
    {
        ArgumentNullException.ThrowIfNull(resHiddenStates);
        if (resHiddenStates.Count != count)
            throw new ArgumentException($"resHiddenStates must hold {count} skip states (one per resnet); got {resHiddenStates.Count}", nameof(resHiddenStates));
    }
}
