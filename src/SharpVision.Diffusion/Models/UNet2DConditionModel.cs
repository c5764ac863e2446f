using System.Text.Json;
using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn;
using SharpVision.Nn.Checkpoints;
using TorchSharp.Modules;
using GroupNorm = SharpVision.Nn.Normalization.GroupNorm;

namespace SharpVision.Diffusion.Models;

/// <summary>
/// The text-conditioned UNet of Stable Diffusion (diffusers models/unets/unet_2d_condition.py <c>UNet2DConditionModel</c>):
/// noisy latent, timestep and encoder hidden states in, a latent-shaped prediction out; the spatial transformers
/// cross-attend to the encoder states. Optional ControlNet residuals are added to the skip states and after the mid block.
/// Parameter names equal diffusers' state_dict keys. Supports the plain configuration (positional time embedding, no
/// class/addition embeddings, no dual or only-cross attention).
/// </summary>
public sealed class UNet2DConditionModel : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    /// <summary>File names of a diffusers model folder.</summary>
    public const string ConfigFileName = UNet2DModel.ConfigFileName, WeightsFileName = UNet2DModel.WeightsFileName;

    public readonly Conv2d conv_in;
    public readonly Timesteps time_proj;
    public readonly TimestepEmbedding time_embedding;
    /// <summary>Each a <see cref="CrossAttnDownBlock2D"/> or <see cref="DownBlock2D"/>.</summary>
    public readonly ModuleList<nn.Module> down_blocks;
    /// <summary>Each a <see cref="CrossAttnUpBlock2D"/> or <see cref="UpBlock2D"/>.</summary>
    public readonly ModuleList<nn.Module> up_blocks;
    public readonly UNetMidBlock2DCrossAttn? mid_block;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;

    readonly int upFactor;

    /// <summary>The configuration this model was built from.</summary>
    public UNet2DConditionModelConfig Config { get; }

    internal CrossAttnEncoderSpec Spec { get; }

    /// <summary>Builds a freshly initialised model (training mode, float32).</summary>
    /// <exception cref="ArgumentException">Inconsistent config.</exception>
    /// <exception cref="NotSupportedException">A config feature this class does not implement.</exception>
    public UNet2DConditionModel(UNet2DConditionModelConfig config) : base(nameof(UNet2DConditionModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Spec = SpecOf(config);
        Spec.Validate(nameof(UNet2DConditionModel));
        if (config.UpBlockTypes.Count != config.BlockOutChannels.Count)
            throw new ArgumentException($"up_block_types ({config.UpBlockTypes.Count}) and block_out_channels ({config.BlockOutChannels.Count}) must have the same length", nameof(config));
        if (config.NumAttentionHeads is not null)
            throw new NotSupportedException("UNet2DConditionModel: num_attention_heads must be null (diffusers reads the head count from attention_head_dim)");
        if (config.ConvOutKernel % 2 != 1) throw new ArgumentException($"conv_out_kernel must be odd; got {config.ConvOutKernel}", nameof(config));
        ConfigChecks.RequireNeutral(config.Extra, nameof(UNet2DConditionModel));

        conv_in = Spec.CreateConvIn();
        time_proj = Spec.CreateTimeProj();
        time_embedding = Spec.CreateTimeEmbedding();
        down_blocks = Spec.CreateDownBlocks();
        mid_block = Spec.CreateMidBlock();

        int levels = config.BlockOutChannels.Count;
        var reversed = config.BlockOutChannels.Reverse().ToArray();
        var resnet = Spec.Resnet();
        up_blocks = new ModuleList<nn.Module>();
        long outputChannel = reversed[0];
        for (int i = 0; i < levels; i++)
        {
            long prevOutputChannel = outputChannel;
            outputChannel = reversed[i];
            long inputChannel = reversed[Math.Min(i + 1, levels - 1)];
            bool last = i == levels - 1;
            int layers = config.LayersPerBlock + 1;
            int block = levels - 1 - i; // the per-block lists are reversed for the decoder
            up_blocks.append(config.UpBlockTypes[i] switch
            {
                ConditionUpBlockType.CrossAttnUpBlock2D => new CrossAttnUpBlock2D(inputChannel, prevOutputChannel, outputChannel, resnet,
                    Spec.Transformer(block), layers, !last),
                _ => new UpBlock2D(inputChannel, prevOutputChannel, outputChannel, resnet, layers, !last),
            });
        }

        conv_norm_out = new GroupNorm(config.NormNumGroups, config.BlockOutChannels[0], config.NormEps);
        conv_out = nn.Conv2d(config.BlockOutChannels[0], config.OutChannels, config.ConvOutKernel, padding: (config.ConvOutKernel - 1) / 2);
        upFactor = 1 << (levels - 1);
        RegisterComponents();
    }

    internal static CrossAttnEncoderSpec SpecOf(UNet2DConditionModelConfig c)
    {
        int n = c.BlockOutChannels.Count;
        return new CrossAttnEncoderSpec(c.InChannels, c.BlockOutChannels, c.DownBlockTypes, c.LayersPerBlock, c.DownsamplePadding, c.MidBlockType,
            c.MidBlockScaleFactor, c.Dropout, c.ActFn, c.NormNumGroups, c.NormEps, c.ResnetTimeScaleShift, c.CrossAttentionDim,
            CrossAttnEncoderSpec.PerBlock(c.NumAttentionHeads ?? c.AttentionHeadDim, 8, n, "attention_head_dim"),
            CrossAttnEncoderSpec.PerBlock(c.TransformerLayersPerBlock, 1, n, "transformer_layers_per_block"),
            c.UseLinearProjection, c.UpcastAttention, c.OnlyCrossAttention, c.FlipSinToCos, c.FreqShift, c.TimeEmbedDim, c.ConvInKernel);
    }

    /// <summary>The dtype of the parameters (float32 unless converted).</summary>
    public ScalarType Dtype => conv_in.weight!.dtype;

    /// <summary>Number of down-block residuals a ControlNet must supply (one per skip state).</summary>
    public int NumDownResiduals => Spec.NumSkipStates;

    /// <param name="sample">(B, in_channels, H, W) noisy latent.</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim) e.g. text-encoder states.</param>
    /// <returns>(B, out_channels, H, W).</returns>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates) =>
        Forward(sample, timestep, encoderHiddenStates, null, null);

    /// <summary>Forward with optional ControlNet residuals (both or neither).</summary>
    /// <param name="sample">(B, in_channels, H, W) noisy latent.</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim).</param>
    /// <param name="downBlockAdditionalResiduals">One tensor per skip state (<see cref="NumDownResiduals"/>), each shaped like it; added to the skips.</param>
    /// <param name="midBlockAdditionalResidual">Shaped like the mid block output; added to it.</param>
    /// <returns>(B, out_channels, H, W).</returns>
    /// <exception cref="ArgumentException">A shape that does not fit the model, or residuals whose count or shapes differ from
    /// the UNet's skip states (the message gives both).</exception>
    public Tensor Forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates,
        IReadOnlyList<Tensor>? downBlockAdditionalResiduals, Tensor? midBlockAdditionalResidual)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.dim() != 4 || sample.shape[1] != Config.InChannels)
            throw new ArgumentException($"sample must be (B, {Config.InChannels}, H, W); got {Shapes.Format(sample)}", nameof(sample));
        long batch = sample.shape[0];
        CrossAttnEncoder.CheckTimestep(timestep, batch);
        CrossAttnEncoder.CheckEncoderStates(encoderHiddenStates, batch, Config.CrossAttentionDim);
        if ((downBlockAdditionalResiduals is null) != (midBlockAdditionalResidual is null))
            throw new ArgumentException("downBlockAdditionalResiduals and midBlockAdditionalResidual must be given together (ControlNet residuals); got only " +
                (downBlockAdditionalResiduals is null ? "midBlockAdditionalResidual" : "downBlockAdditionalResiduals"), nameof(downBlockAdditionalResiduals));
        if (downBlockAdditionalResiduals is not null && downBlockAdditionalResiduals.Count != NumDownResiduals)
            throw new ArgumentException($"downBlockAdditionalResiduals holds {downBlockAdditionalResiduals.Count} residuals, but this UNet has {NumDownResiduals} skip states " +
                $"(block_out_channels {Shapes.Format(Config.BlockOutChannels.Select(x => (long)x).ToArray())}, layers_per_block {Config.LayersPerBlock})",
                nameof(downBlockAdditionalResiduals));

        using var scope = torch.NewDisposeScope();
        bool forwardUpsampleSize = sample.shape[2] % upFactor != 0 || sample.shape[3] % upFactor != 0;
        if (Config.CenterInputSample) sample = 2 * sample - 1.0;
        var emb = CrossAttnEncoder.Embed(time_proj, time_embedding, timestep, sample, Dtype);

        var h = conv_in.call(sample);
        var skips = new List<Tensor> { h };
        h = CrossAttnEncoder.Down(down_blocks, h, emb, encoderHiddenStates, skips);

        if (downBlockAdditionalResiduals is not null)
        {
            for (int i = 0; i < skips.Count; i++)
            {
                var r = downBlockAdditionalResiduals[i];
                if (!r.shape.SequenceEqual(skips[i].shape))
                    throw new ArgumentException($"downBlockAdditionalResiduals[{i}] must be {Shapes.Format(skips[i])} like the UNet's skip state {i}; got {Shapes.Format(r)}",
                        nameof(downBlockAdditionalResiduals));
                skips[i] = skips[i] + r;
            }
        }

        if (mid_block is not null) h = mid_block.call(h, emb, encoderHiddenStates);
        if (midBlockAdditionalResidual is not null)
        {
            if (!midBlockAdditionalResidual.shape.SequenceEqual(h.shape))
                throw new ArgumentException($"midBlockAdditionalResidual must be {Shapes.Format(h)} like the UNet's mid block output; got {Shapes.Format(midBlockAdditionalResidual)}",
                    nameof(midBlockAdditionalResidual));
            h = h + midBlockAdditionalResidual;
        }

        for (int i = 0; i < up_blocks.Count; i++)
        {
            var block = up_blocks[i];
            int n = block is CrossAttnUpBlock2D c ? c.NumResnets : ((IUpBlock2D)block).NumResnets;
            var res = skips.GetRange(skips.Count - n, n);
            skips.RemoveRange(skips.Count - n, n);
            // odd sizes: upsample to the next skip's size instead of doubling
            long[]? upsampleSize = forwardUpsampleSize && i < up_blocks.Count - 1 ? [skips[^1].shape[2], skips[^1].shape[3]] : null;
            h = block is CrossAttnUpBlock2D cross
                ? cross.Forward(h, res, emb, encoderHiddenStates, upsampleSize)
                : ((IUpBlock2D)block).Forward(h, res, emb, upsampleSize);
        }

        h = conv_out.call(Activations.Apply(Config.ActFn, conv_norm_out.call(h)));
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads a diffusers <c>save_pretrained</c> folder (config.json + diffusion_pytorch_model.safetensors) strictly.
    /// Returns the model in eval mode.
    /// </summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing.</exception>
    /// <exception cref="InvalidDataException">The config is not a UNet2DConditionModel config.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not match the config.</exception>
    public static UNet2DConditionModel FromPretrained(string directory, ScalarType dtype = ScalarType.Float32) =>
        PretrainedFolder.Load(directory, dtype, nameof(UNet2DConditionModel), UNet2DConditionModelConfig.FromFile, c => c.Extra, c => new UNet2DConditionModel(c));

    /// <summary>Writes a diffusers model folder (config.json with <c>_class_name</c>, weights as safetensors), each file atomically.</summary>
    public void SavePretrained(string directory) =>
        PretrainedFolder.Save(this, directory, (Config with { Extra = PretrainedFolder.WithClassName(Config.Extra, nameof(UNet2DConditionModel)) }).ToJson());
}
