using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models;

/// <summary>
/// The architecture a text-conditioned UNet and its ControlNet share: conv_in, time embedding, down blocks and mid block.
/// Both configs map to this so the two models build (and therefore name) those parts identically.
/// </summary>
internal sealed record CrossAttnEncoderSpec(
    int InChannels,
    IReadOnlyList<int> BlockOutChannels,
    IReadOnlyList<ConditionDownBlockType> DownBlockTypes,
    int LayersPerBlock,
    int DownsamplePadding,
    ConditionMidBlockType? MidBlockType,
    double MidBlockScaleFactor,
    double Dropout,
    ActivationFunction Act,
    int Groups,
    double Eps,
    ResnetTimeScaleShift TimeScaleShift,
    int CrossAttentionDim,
    int[] Heads,
    int[] TransformerLayers,
    bool UseLinearProjection,
    bool UpcastAttention,
    bool OnlyCrossAttention,
    bool FlipSinToCos,
    double FreqShift,
    int TimeEmbedDim,
    int ConvInKernel)
{
    /// <summary>Expands a one-value-or-per-block option to one value per block.</summary>
    internal static int[] PerBlock(int[]? values, int fallback, int blocks, string name)
    {
        if (values is null || values.Length == 0) return Enumerable.Repeat(fallback, blocks).ToArray();
        if (values.Length == 1) return Enumerable.Repeat(values[0], blocks).ToArray();
        if (values.Length != blocks)
            throw new ArgumentException($"{name} must be one int or one per block ({blocks}); got {values.Length} values", name);
        return values;
    }

    internal void Validate(string model)
    {
        if (BlockOutChannels is null || BlockOutChannels.Count == 0)
            throw new ArgumentException($"{model}: block_out_channels must not be empty");
        if (DownBlockTypes.Count != BlockOutChannels.Count)
            throw new ArgumentException($"{model}: down_block_types ({DownBlockTypes.Count}) and block_out_channels ({BlockOutChannels.Count}) must have the same length");
        if (OnlyCrossAttention) throw new NotSupportedException($"{model}: only_cross_attention = true is not supported; only false");
        if (ConvInKernel % 2 != 1) throw new ArgumentException($"{model}: conv_in_kernel must be odd; got {ConvInKernel}");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InChannels, "in_channels");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LayersPerBlock, "layers_per_block");
    }

    internal ResnetSettings Resnet(double outputScaleFactor = 1.0) =>
        new(TimeEmbedDim, Eps, Groups, Dropout, Act, TimeScaleShift, outputScaleFactor);

    internal TransformerSettings Transformer(int block) =>
        new(Heads[block], CrossAttentionDim, TransformerLayers[block], UseLinearProjection, UpcastAttention);

    internal Conv2d CreateConvIn() => nn.Conv2d(InChannels, BlockOutChannels[0], ConvInKernel, padding: (ConvInKernel - 1) / 2);

    internal Timesteps CreateTimeProj() => new(BlockOutChannels[0], FlipSinToCos, FreqShift);

    internal TimestepEmbedding CreateTimeEmbedding() => new(BlockOutChannels[0], TimeEmbedDim, Act);

    internal ModuleList<nn.Module> CreateDownBlocks()
    {
        var blocks = new ModuleList<nn.Module>();
        var resnet = Resnet();
        long outputChannel = BlockOutChannels[0];
        for (int i = 0; i < BlockOutChannels.Count; i++)
        {
            long inputChannel = outputChannel;
            outputChannel = BlockOutChannels[i];
            bool last = i == BlockOutChannels.Count - 1;
            blocks.append(DownBlockTypes[i] switch
            {
                ConditionDownBlockType.CrossAttnDownBlock2D => new CrossAttnDownBlock2D(inputChannel, outputChannel, resnet, Transformer(i),
                    LayersPerBlock, !last, DownsamplePadding),
                _ => new DownBlock2D(inputChannel, outputChannel, resnet, LayersPerBlock, !last, DownsamplePadding),
            });
        }
        return blocks;
    }

    internal UNetMidBlock2DCrossAttn? CreateMidBlock() => MidBlockType is null
        ? null
        : new UNetMidBlock2DCrossAttn(BlockOutChannels[^1], Resnet(MidBlockScaleFactor), Transformer(BlockOutChannels.Count - 1));

    /// <summary>Number of skip states the encoder produces: conv_in's, one per resnet, one per downsampler.</summary>
    internal int NumSkipStates => 1 + BlockOutChannels.Count * LayersPerBlock + (BlockOutChannels.Count - 1);
}

/// <summary>Forward passes shared by UNet2DConditionModel and ControlNetModel.</summary>
internal static class CrossAttnEncoder
{
    /// <summary>Checks a timestep argument against the batch.</summary>
    internal static void CheckTimestep(Tensor timestep, long batch)
    {
        ArgumentNullException.ThrowIfNull(timestep);
        if (timestep.dim() > 1 || (timestep.numel() != 1 && timestep.numel() != batch))
            throw new ArgumentException($"timestep must be a scalar, (1) or ({batch}); got {Shapes.Format(timestep)}", nameof(timestep));
    }

    /// <summary>Checks encoder hidden states against the batch and cross_attention_dim.</summary>
    internal static void CheckEncoderStates(Tensor encoderHiddenStates, long batch, long crossAttentionDim)
    {
        ArgumentNullException.ThrowIfNull(encoderHiddenStates);
        if (encoderHiddenStates.dim() != 3 || encoderHiddenStates.shape[0] != batch || encoderHiddenStates.shape[2] != crossAttentionDim)
            throw new ArgumentException($"encoderHiddenStates must be ({batch}, M, {crossAttentionDim}); got {Shapes.Format(encoderHiddenStates)}",
                nameof(encoderHiddenStates));
    }

    /// <summary>The time embedding (B, time_embed_dim): sinusoidal features (float32, as the reference) cast to the model dtype, then the MLP.</summary>
    internal static Tensor Embed(Timesteps timeProj, TimestepEmbedding timeEmbedding, Tensor timestep, Tensor sample, ScalarType dtype)
    {
        long batch = sample.shape[0];
        var timesteps = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep; // (1) or (B)
        timesteps = timesteps.to(sample.device) * ones(batch, dtype: timesteps.dtype, device: sample.device); // (B)
        return timeEmbedding.call(timeProj.call(timesteps).to(dtype));
    }

    /// <summary>Runs the down blocks; returns the last state and appends every skip state to <paramref name="skips"/>.</summary>
    internal static Tensor Down(ModuleList<nn.Module> downBlocks, Tensor h, Tensor emb, Tensor encoderHiddenStates, List<Tensor> skips)
    {
        foreach (var block in downBlocks)
        {
            var output = block is CrossAttnDownBlock2D cross
                ? cross.call(h, emb, encoderHiddenStates)
                : ((IDownBlock2D)block).forward(h, emb);
            h = output.Sample;
            skips.AddRange(output.ResSamples);
        }
        return h;
    }
}
