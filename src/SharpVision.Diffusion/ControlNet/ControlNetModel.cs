using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// diffusers' <c>ControlNetModel</c> (models/controlnets/controlnet.py): a trainable copy of a
/// <see cref="UNet2DConditionModel"/>'s encoder (conv_in, time embedding, down blocks, mid block) that also sees a
/// condition image through <see cref="ControlNetConditioningEmbedding"/> (added after conv_in), and hands each of its
/// skip states and its mid output through a <see cref="ZeroConv"/> to the locked UNet. Parameter names equal diffusers'.
/// </summary>
public sealed class ControlNetModel : nn.Module<Tensor, Tensor, Tensor, Tensor, ControlNetOutput>
{
    public readonly Conv2d conv_in;
    public readonly Timesteps time_proj;
    public readonly TimestepEmbedding time_embedding;
    public readonly ControlNetConditioningEmbedding controlnet_cond_embedding;
    /// <summary>Each a <see cref="CrossAttnDownBlock2D"/> or <see cref="DownBlock2D"/>.</summary>
    public readonly ModuleList<nn.Module> down_blocks;
    /// <summary>One 1×1 zero convolution per skip state.</summary>
    public readonly ModuleList<ZeroConv> controlnet_down_blocks;
    /// <summary>1×1 zero convolution on the mid block output.</summary>
    public readonly ZeroConv controlnet_mid_block;
    public readonly UNetMidBlock2DCrossAttn? mid_block;

    /// <summary>The configuration this model was built from.</summary>
    public ControlNetModelConfig Config { get; }

    internal CrossAttnEncoderSpec Spec { get; }

    /// <summary>Builds a freshly initialised ControlNet (zero convolutions at zero; training mode, float32).</summary>
    /// <exception cref="ArgumentException">Inconsistent config.</exception>
    /// <exception cref="NotSupportedException">A config feature this class does not implement.</exception>
    public ControlNetModel(ControlNetModelConfig config) : base(nameof(ControlNetModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        int n = config.BlockOutChannels.Count;
        Spec = new CrossAttnEncoderSpec(config.InChannels, config.BlockOutChannels, config.DownBlockTypes, config.LayersPerBlock,
            config.DownsamplePadding, config.MidBlockType, config.MidBlockScaleFactor, 0.0, config.ActFn, config.NormNumGroups, config.NormEps,
            config.ResnetTimeScaleShift, config.CrossAttentionDim,
            CrossAttnEncoderSpec.PerBlock(config.NumAttentionHeads ?? config.AttentionHeadDim, 8, n, "attention_head_dim"),
            CrossAttnEncoderSpec.PerBlock(config.TransformerLayersPerBlock, 1, n, "transformer_layers_per_block"),
            config.UseLinearProjection, config.UpcastAttention, config.OnlyCrossAttention, config.FlipSinToCos, config.FreqShift,
            config.BlockOutChannels[0] * 4, 3);
        Spec.Validate(nameof(ControlNetModel));
        if (config.GlobalPoolConditions)
            throw new NotSupportedException("ControlNetModel: global_pool_conditions = true is not supported; only false");
        ConfigChecks.RequireNeutral(config.Extra, nameof(ControlNetModel));

        conv_in = Spec.CreateConvIn();
        time_proj = Spec.CreateTimeProj();
        time_embedding = Spec.CreateTimeEmbedding();
        controlnet_cond_embedding = new ControlNetConditioningEmbedding(config.BlockOutChannels[0], config.ConditioningChannels,
            config.ConditioningEmbeddingOutChannels);
        down_blocks = Spec.CreateDownBlocks();

        controlnet_down_blocks = new ModuleList<ZeroConv>(new ZeroConv(config.BlockOutChannels[0]));
        for (int i = 0; i < n; i++)
        {
            long c = config.BlockOutChannels[i];
            for (int j = 0; j < config.LayersPerBlock; j++) controlnet_down_blocks.append(new ZeroConv(c));
            if (i < n - 1) controlnet_down_blocks.append(new ZeroConv(c));
        }
        controlnet_mid_block = new ZeroConv(config.BlockOutChannels[^1]);
        mid_block = Spec.CreateMidBlock();
        RegisterComponents();
    }

    /// <summary>The dtype of the parameters.</summary>
    public ScalarType Dtype => conv_in.weight!.dtype;

    /// <summary>
    /// A ControlNet for <paramref name="unet"/> (diffusers' <c>from_unet</c>): same encoder architecture, its conv_in, time
    /// embedding, down blocks and mid block copied from the UNet (unless <paramref name="loadWeightsFromUNet"/> is false), a
    /// fresh conditioning embedding, zero convolutions at zero. The result has the UNet's dtype and is in training mode, so
    /// the controlled UNet's output equals the UNet's own until training moves the zero convolutions.
    /// </summary>
    /// <param name="conditioningEmbeddingOutChannels">Stage widths of the conditioning embedding (default (16, 32, 96, 256)).</param>
    /// <param name="conditioningChannels">Channels of the condition image.</param>
    public static ControlNetModel FromUNet(UNet2DConditionModel unet, IReadOnlyList<int>? conditioningEmbeddingOutChannels = null,
        bool loadWeightsFromUNet = true, int conditioningChannels = 3, ConditioningChannelOrder channelOrder = ConditioningChannelOrder.Rgb)
    {
        ArgumentNullException.ThrowIfNull(unet);
        var config = ControlNetModelConfig.FromUNetConfig(unet.Config, conditioningEmbeddingOutChannels, conditioningChannels, channelOrder);
        var controlnet = new ControlNetModel(config);
        if (unet.Dtype != ScalarType.Float32) controlnet.to(unet.Dtype);
        if (loadWeightsFromUNet)
        {
            ModuleWeights.Copy(unet.conv_in, controlnet.conv_in, "conv_in");
            ModuleWeights.Copy(unet.time_embedding, controlnet.time_embedding, "time_embedding");
            ModuleWeights.Copy(unet.down_blocks, controlnet.down_blocks, "down_blocks");
            if (unet.mid_block is not null) ModuleWeights.Copy(unet.mid_block, controlnet.mid_block!, "mid_block");
        }
        return controlnet;
    }

    /// <summary>
    /// Checks that this ControlNet's encoder matches <paramref name="unet"/>'s, so its residuals fit the UNet's skip states.
    /// </summary>
    /// <exception cref="ArgumentException">Settings that differ, each with the ControlNet's and the UNet's values.</exception>
    public void RequireCompatible(UNet2DConditionModel unet)
    {
        ArgumentNullException.ThrowIfNull(unet);
        UNetMatch.Require(
            ("in_channels", Config.InChannels, unet.Config.InChannels),
            ("block_out_channels", Config.BlockOutChannels, unet.Config.BlockOutChannels),
            ("down_block_types", Config.DownBlockTypes, unet.Config.DownBlockTypes),
            ("layers_per_block", Config.LayersPerBlock, unet.Config.LayersPerBlock),
            ("mid_block_type", Config.MidBlockType, unet.Config.MidBlockType),
            ("cross_attention_dim", Config.CrossAttentionDim, unet.Config.CrossAttentionDim));
    }

    /// <inheritdoc cref="Forward"/>
    public override ControlNetOutput forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor controlnetCond) =>
        Forward(sample, timestep, encoderHiddenStates, controlnetCond);

    /// <param name="sample">(B, in_channels, H, W) the noisy latent the UNet sees.</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim).</param>
    /// <param name="controlnetCond">(B, conditioning_channels, H·f, W·f) condition image, f = 2^(len(conditioning_embedding_out_channels) - 1).</param>
    /// <param name="conditioningScale">Multiplies every residual.</param>
    /// <param name="guessMode">Scale residuals from 0.1 (shallowest) to 1 (mid) on a log scale, as diffusers' guess mode.</param>
    /// <returns>The scaled residuals: one per UNet skip state, and the mid residual.</returns>
    /// <exception cref="ArgumentException">A shape that does not fit (the condition image names the sample it must match).</exception>
    public ControlNetOutput Forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor controlnetCond,
        double conditioningScale = 1.0, bool guessMode = false)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(controlnetCond);
        if (sample.dim() != 4 || sample.shape[1] != Config.InChannels)
            throw new ArgumentException($"sample must be (B, {Config.InChannels}, H, W); got {Shapes.Format(sample)}", nameof(sample));
        long batch = sample.shape[0];
        CrossAttnEncoder.CheckTimestep(timestep, batch);
        CrossAttnEncoder.CheckEncoderStates(encoderHiddenStates, batch, Config.CrossAttentionDim);
        int f = controlnet_cond_embedding.DownsampleFactor;
        long[] wanted = [batch, Config.ConditioningChannels, sample.shape[2] * f, sample.shape[3] * f];
        if (!controlnetCond.shape.SequenceEqual(wanted))
            throw new ArgumentException($"controlnetCond must be {Shapes.Format(wanted)} for sample {Shapes.Format(sample)} " +
                $"(conditioning_channels {Config.ConditioningChannels}, the conditioning embedding downsamples by {f}); got {Shapes.Format(controlnetCond)}",
                nameof(controlnetCond));

        using var scope = torch.NewDisposeScope();
        if (Config.ControlNetConditioningChannelOrder == ConditioningChannelOrder.Bgr) controlnetCond = controlnetCond.flip(1);
        var emb = CrossAttnEncoder.Embed(time_proj, time_embedding, timestep, sample, Dtype);

        var h = conv_in.call(sample) + controlnet_cond_embedding.call(controlnetCond);
        var skips = new List<Tensor> { h };
        h = CrossAttnEncoder.Down(down_blocks, h, emb, encoderHiddenStates, skips);
        if (mid_block is not null) h = mid_block.call(h, emb, encoderHiddenStates);

        var down = new Tensor[skips.Count];
        for (int i = 0; i < skips.Count; i++) down[i] = controlnet_down_blocks[i].call(skips[i]);
        var mid = controlnet_mid_block.call(h);

        if (guessMode)
        {
            // diffusers builds these factors in float32 (logspace), so they are float32-rounded here too
            using var factors = torch.logspace(-1, 0, down.Length + 1, dtype: ScalarType.Float32) * (float)conditioningScale;
            for (int i = 0; i < down.Length; i++) down[i] = down[i] * factors[i].item<float>();
            mid = mid * factors[down.Length].item<float>();
        }
        else if (conditioningScale != 1.0)
        {
            for (int i = 0; i < down.Length; i++) down[i] = down[i] * conditioningScale;
            mid = mid * conditioningScale;
        }
        foreach (var d in down) d.MoveToOuterDisposeScope();
        mid.MoveToOuterDisposeScope();
        return new ControlNetOutput(down, mid);
    }

    /// <summary>The locked <paramref name="unet"/>'s prediction under this ControlNet's control.</summary>
    /// <param name="unet">The UNet this ControlNet was made for.</param>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim).</param>
    /// <param name="controlnetCond">(B, conditioning_channels, H·f, W·f).</param>
    /// <returns>(B, out_channels, H, W).</returns>
    /// <exception cref="ArgumentException">A UNet of another configuration, or a shape that does not fit.</exception>
    public Tensor Apply(UNet2DConditionModel unet, Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor controlnetCond,
        double conditioningScale = 1.0)
    {
        RequireCompatible(unet);
        using var scope = torch.NewDisposeScope();
        var r = Forward(sample, timestep, encoderHiddenStates, controlnetCond, conditioningScale);
        return unet.Forward(sample, timestep, encoderHiddenStates, r.DownBlockResSamples, r.MidBlockResSample).MoveToOuterDisposeScope();
    }

    /// <summary>Loads a diffusers ControlNetModel folder strictly; returns the model in eval mode.</summary>
    /// <param name="directory">Folder with config.json and diffusion_pytorch_model.safetensors.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">The config is not a ControlNetModel config.</exception>
    /// <exception cref="SharpVision.Nn.Checkpoints.CheckpointMismatchException">The weights do not match the config.</exception>
    public static ControlNetModel FromPretrained(string directory, ScalarType dtype = ScalarType.Float32) =>
        PretrainedFolder.Load(directory, dtype, nameof(ControlNetModel), ControlNetModelConfig.FromFile, c => c.Extra, c => new ControlNetModel(c));

    /// <summary>Writes a diffusers model folder (config.json with <c>_class_name</c> "ControlNetModel", weights as safetensors).</summary>
    public void SavePretrained(string directory) =>
        PretrainedFolder.Save(this, directory, (Config with { Extra = PretrainedFolder.WithClassName(Config.Extra, nameof(ControlNetModel)) }).ToJson());
}
