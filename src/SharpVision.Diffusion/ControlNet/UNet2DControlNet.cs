using System.Text.Json;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// A ControlNet for <see cref="UNet2DModel"/> (the unconditional / class-conditional DDPM UNet), built like diffusers'
/// ControlNetModel: a trainable copy of the UNet's conv_in, time (and class) embedding, down blocks and mid block; a
/// <see cref="ControlNetConditioningEmbedding"/> whose output is added after conv_in; a <see cref="ZeroConv"/> on every
/// skip state and on the mid output. The locked UNet takes the residuals, scaled by the conditioning scale, through
/// <see cref="UNet2DModel.Forward"/>. Parameter names follow ControlNetModel's.
/// </summary>
public sealed class UNet2DControlNet : nn.Module<Tensor, Tensor, Tensor, ControlNetOutput>
{
    public readonly Conv2d conv_in;
    /// <summary>The UNet's time projection (sinusoidal, Fourier or learned).</summary>
    public readonly nn.Module<Tensor, Tensor> time_proj;
    public readonly TimestepEmbedding time_embedding;
    /// <summary>The UNet's class embedding, or null.</summary>
    public readonly nn.Module<Tensor, Tensor>? class_embedding;
    public readonly ControlNetConditioningEmbedding controlnet_cond_embedding;
    /// <summary>Each an <see cref="IDownBlock2D"/>.</summary>
    public readonly ModuleList<nn.Module> down_blocks;
    /// <summary>One 1×1 zero convolution per skip state.</summary>
    public readonly ModuleList<ZeroConv> controlnet_down_blocks;
    public readonly ZeroConv controlnet_mid_block;
    public readonly UNetMidBlock2D? mid_block;

    /// <summary>The configuration of the UNet this ControlNet copies.</summary>
    public UNet2DModelConfig UNetConfig { get; }

    /// <summary>Channels of the condition image.</summary>
    public int ConditioningChannels { get; }

    /// <summary>Stage widths of the conditioning embedding.</summary>
    public IReadOnlyList<int> ConditioningEmbeddingOutChannels { get; }

    /// <summary>A freshly initialised ControlNet for UNets of <paramref name="unetConfig"/> (zero convolutions at zero, float32).</summary>
    /// <param name="conditioningEmbeddingOutChannels">Stage widths of the conditioning embedding (default (16, 32, 96, 256)); the
    /// condition image is 2^(stages-1) times the sample's size.</param>
    /// <param name="conditioningChannels">Channels of the condition image.</param>
    public UNet2DControlNet(UNet2DModelConfig unetConfig, IReadOnlyList<int>? conditioningEmbeddingOutChannels = null, int conditioningChannels = 3)
        : base(nameof(UNet2DControlNet))
    {
        ArgumentNullException.ThrowIfNull(unetConfig);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(conditioningChannels);
        UNetConfig = unetConfig;
        ConditioningChannels = conditioningChannels;
        ConditioningEmbeddingOutChannels = conditioningEmbeddingOutChannels?.ToArray() ?? [16, 32, 96, 256];

        // Build a UNet of the same config and take its encoder, so the copy is constructed (and named) exactly like the
        // original; its decoder is dropped.
        var template = new UNet2DModel(unetConfig);
        conv_in = template.conv_in;
        time_proj = template.time_proj;
        time_embedding = template.time_embedding;
        class_embedding = template.class_embedding;
        controlnet_cond_embedding = new ControlNetConditioningEmbedding(unetConfig.BlockOutChannels[0], conditioningChannels, ConditioningEmbeddingOutChannels);
        down_blocks = template.down_blocks;
        int n = unetConfig.BlockOutChannels.Count;
        controlnet_down_blocks = new ModuleList<ZeroConv>(new ZeroConv(unetConfig.BlockOutChannels[0]));
        for (int i = 0; i < n; i++)
        {
            long c = unetConfig.BlockOutChannels[i];
            for (int j = 0; j < unetConfig.LayersPerBlock; j++) controlnet_down_blocks.append(new ZeroConv(c));
            if (i < n - 1) controlnet_down_blocks.append(new ZeroConv(c));
        }
        controlnet_mid_block = new ZeroConv(unetConfig.BlockOutChannels[^1]);
        mid_block = template.mid_block;
        template.up_blocks.Dispose();
        template.conv_norm_out.Dispose();
        template.conv_out.Dispose();
        RegisterComponents();
    }

    /// <summary>The dtype of the parameters.</summary>
    public ScalarType Dtype => conv_in.weight!.dtype;

    /// <summary>
    /// A ControlNet for <paramref name="unet"/>: its encoder weights copied, a fresh conditioning embedding, zero convolutions at
    /// zero, the UNet's dtype, training mode. Applied to <paramref name="unet"/> it leaves the output unchanged until trained.
    /// </summary>
    public static UNet2DControlNet FromUNet(UNet2DModel unet, IReadOnlyList<int>? conditioningEmbeddingOutChannels = null, int conditioningChannels = 3)
    {
        ArgumentNullException.ThrowIfNull(unet);
        var controlnet = new UNet2DControlNet(unet.Config, conditioningEmbeddingOutChannels, conditioningChannels);
        if (unet.Dtype != ScalarType.Float32) controlnet.to(unet.Dtype);
        ModuleWeights.Copy(unet.conv_in, controlnet.conv_in, "conv_in");
        ModuleWeights.Copy(unet.time_proj, controlnet.time_proj, "time_proj");
        ModuleWeights.Copy(unet.time_embedding, controlnet.time_embedding, "time_embedding");
        if (unet.class_embedding is not null) ModuleWeights.Copy(unet.class_embedding, controlnet.class_embedding!, "class_embedding");
        ModuleWeights.Copy(unet.down_blocks, controlnet.down_blocks, "down_blocks");
        if (unet.mid_block is not null) ModuleWeights.Copy(unet.mid_block, controlnet.mid_block!, "mid_block");
        return controlnet;
    }

    /// <summary>Checks that this ControlNet's encoder matches <paramref name="unet"/>'s.</summary>
    /// <exception cref="ArgumentException">Settings that differ, each with the ControlNet's and the UNet's values.</exception>
    public void RequireCompatible(UNet2DModel unet)
    {
        ArgumentNullException.ThrowIfNull(unet);
        var a = UNetConfig;
        var b = unet.Config;
        UNetMatch.Require(
            ("in_channels", a.InChannels, b.InChannels),
            ("block_out_channels", a.BlockOutChannels, b.BlockOutChannels),
            ("down_block_types", a.DownBlockTypes, b.DownBlockTypes),
            ("layers_per_block", a.LayersPerBlock, b.LayersPerBlock),
            ("mid_block_type", a.MidBlockType, b.MidBlockType),
            ("time_embedding_type", a.TimeEmbeddingType, b.TimeEmbeddingType),
            ("class conditioning", a.ClassEmbedType?.ToString() ?? a.NumClassEmbeds?.ToString() ?? "none",
                b.ClassEmbedType?.ToString() ?? b.NumClassEmbeds?.ToString() ?? "none"));
    }

    /// <inheritdoc cref="Forward"/>
    public override ControlNetOutput forward(Tensor sample, Tensor timestep, Tensor controlnetCond) => Forward(sample, timestep, controlnetCond);

    /// <param name="sample">(B, in_channels, H, W) the noisy input the UNet sees.</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="controlnetCond">(B, conditioning_channels, H·f, W·f) condition image, f = 2^(stages - 1).</param>
    /// <param name="classLabels">(B) labels when the UNet is class-conditional.</param>
    /// <param name="conditioningScale">Multiplies every residual.</param>
    /// <returns>One residual per UNet skip state and the mid residual, scaled.</returns>
    /// <exception cref="ArgumentException">A shape that does not fit (the condition image names the sample it must match).</exception>
    public ControlNetOutput Forward(Tensor sample, Tensor timestep, Tensor controlnetCond, Tensor? classLabels = null, double conditioningScale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(timestep);
        ArgumentNullException.ThrowIfNull(controlnetCond);
        if (sample.dim() != 4 || sample.shape[1] != UNetConfig.InChannels)
            throw new ArgumentException($"sample must be (B, {UNetConfig.InChannels}, H, W); got {Shapes.Format(sample)}", nameof(sample));
        long batch = sample.shape[0];
        if (timestep.dim() > 1 || (timestep.numel() != 1 && timestep.numel() != batch))
            throw new ArgumentException($"timestep must be a scalar, (1) or ({batch}); got {Shapes.Format(timestep)}", nameof(timestep));
        if ((class_embedding is null) != (classLabels is null))
            throw new ArgumentException(class_embedding is null
                ? "classLabels given, but the UNet has no class embedding"
                : "classLabels are required: the UNet is class-conditional", nameof(classLabels));
        int f = controlnet_cond_embedding.DownsampleFactor;
        long[] wanted = [batch, ConditioningChannels, sample.shape[2] * f, sample.shape[3] * f];
        if (!controlnetCond.shape.SequenceEqual(wanted))
            throw new ArgumentException($"controlnetCond must be {Shapes.Format(wanted)} for sample {Shapes.Format(sample)} " +
                $"(conditioning_channels {ConditioningChannels}, the conditioning embedding downsamples by {f}); got {Shapes.Format(controlnetCond)}",
                nameof(controlnetCond));

        using var scope = torch.NewDisposeScope();
        var dtype = Dtype;
        if (UNetConfig.CenterInputSample) sample = 2 * sample - 1.0;
        // time (and class) embedding exactly as UNet2DModel computes it
        var timesteps = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep; // (1) or (B)
        timesteps = timesteps.to(sample.device) * ones(batch, dtype: timesteps.dtype, device: sample.device); // (B)
        var emb = time_embedding.call(time_proj.call(timesteps).to(dtype)); // (B, time_embed_dim)
        if (class_embedding is not null)
        {
            var labels = UNetConfig.ClassEmbedType == ClassEmbedType.Timestep ? time_proj.call(classLabels!).to(dtype) : classLabels!;
            emb = emb + class_embedding.call(labels).to(dtype);
        }

        var h = conv_in.call(sample) + controlnet_cond_embedding.call(controlnetCond);
        var skips = new List<Tensor> { h };
        foreach (var block in down_blocks)
        {
            var output = ((IDownBlock2D)block).forward(h, emb);
            h = output.Sample;
            skips.AddRange(output.ResSamples);
        }
        if (mid_block is not null) h = mid_block.call(h, emb);

        var down = new Tensor[skips.Count];
        for (int i = 0; i < skips.Count; i++)
        {
            down[i] = controlnet_down_blocks[i].call(skips[i]);
            if (conditioningScale != 1.0) down[i] = down[i] * conditioningScale;
            down[i].MoveToOuterDisposeScope();
        }
        var mid = controlnet_mid_block.call(h);
        if (conditioningScale != 1.0) mid = mid * conditioningScale;
        return new ControlNetOutput(down, mid.MoveToOuterDisposeScope());
    }

    /// <summary>config.json keys beyond the UNet's that describe the control parts.</summary>
    const string ConditioningChannelsKey = "conditioning_channels", ConditioningStagesKey = "conditioning_embedding_out_channels";

    /// <summary>
    /// Writes a model folder in diffusers' layout: config.json (the UNet's config with <c>_class_name</c> "UNet2DControlNet",
    /// conditioning_channels and conditioning_embedding_out_channels) and diffusion_pytorch_model.safetensors.
    /// </summary>
    public void SavePretrained(string directory)
    {
        var extra = new Dictionary<string, JsonElement>(UNetConfig.Extra ?? [], StringComparer.Ordinal)
        {
            [ConditioningChannelsKey] = JsonSerializer.SerializeToElement(ConditioningChannels),
            [ConditioningStagesKey] = JsonSerializer.SerializeToElement(ConditioningEmbeddingOutChannels),
        };
        PretrainedFolder.Save(this, directory, (UNetConfig with { Extra = PretrainedFolder.WithClassName(extra, nameof(UNet2DControlNet)) }).ToJson());
    }

    /// <summary>Loads a folder written by <see cref="SavePretrained"/> strictly; returns the model in eval mode.</summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">Not a UNet2DControlNet config.</exception>
    /// <exception cref="SharpVision.Nn.Checkpoints.CheckpointMismatchException">The weights do not match the config.</exception>
    public static UNet2DControlNet FromPretrained(string directory, ScalarType dtype = ScalarType.Float32)
    {
        PretrainedFolder.RequireFloatDtype(dtype);
        var configPath = PretrainedFolder.ConfigPath(directory, nameof(UNet2DControlNet));
        var config = UNet2DModelConfig.FromFile(configPath);
        var extra = new Dictionary<string, JsonElement>(config.Extra ?? [], StringComparer.Ordinal);
        if (!extra.TryGetValue("_class_name", out var cls) || cls.ValueKind != JsonValueKind.String || cls.GetString() != nameof(UNet2DControlNet))
            throw new InvalidDataException($"{configPath}: _class_name must be '{nameof(UNet2DControlNet)}'");
        int channels = 3;
        int[]? stages = null;
        try
        {
            if (extra.Remove(ConditioningChannelsKey, out var c)) channels = c.GetInt32();
            if (extra.Remove(ConditioningStagesKey, out var st)) stages = st.Deserialize<int[]>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{configPath}: {ConditioningChannelsKey} must be an int and {ConditioningStagesKey} a list of ints", e);
        }
        extra.Remove("_class_name");
        var model = new UNet2DControlNet(config with { Extra = extra }, stages, channels);
        PretrainedFolder.LoadWeights(model, directory, dtype, nameof(UNet2DControlNet));
        return model;
    }

    /// <summary>The locked <paramref name="unet"/>'s prediction under this ControlNet's control.</summary>
    /// <param name="unet">The UNet this ControlNet was made for.</param>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="controlnetCond">(B, conditioning_channels, H·f, W·f).</param>
    /// <returns>(B, out_channels, H, W).</returns>
    /// <exception cref="ArgumentException">A UNet of another configuration, or a shape that does not fit.</exception>
    public Tensor Apply(UNet2DModel unet, Tensor sample, Tensor timestep, Tensor controlnetCond, Tensor? classLabels = null, double conditioningScale = 1.0)
    {
        RequireCompatible(unet);
        using var scope = torch.NewDisposeScope();
        var r = Forward(sample, timestep, controlnetCond, classLabels, conditioningScale);
        return unet.Forward(sample, timestep, classLabels, r.DownBlockResSamples, r.MidBlockResSample).MoveToOuterDisposeScope();
    }
}
