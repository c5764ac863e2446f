using System.Text.Json;
using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn;
using SharpVision.Nn.Checkpoints;
using TorchSharp.Modules;
using GroupNorm = SharpVision.Nn.Normalization.GroupNorm;

namespace SharpVision.Diffusion.Models;

/// <summary>
/// The DDPM-style image UNet of diffusers (models/unets/unet_2d.py <c>UNet2DModel</c>): noisy sample and timestep
/// (and optional class label) in, a sample-shaped prediction (noise, v or x0, as trained) out. Parameter names equal
/// diffusers' state_dict keys, so <see cref="FromPretrained"/> reads a diffusers <c>save_pretrained</c> folder and
/// <see cref="SavePretrained"/> writes one diffusers can load.
/// </summary>
public sealed class UNet2DModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    /// <summary>File names of a diffusers model folder.</summary>
    public const string ConfigFileName = PretrainedFolder.ConfigFileName, WeightsFileName = PretrainedFolder.WeightsFileName;

    public readonly Conv2d conv_in;
    /// <summary><see cref="Timesteps"/>, <see cref="GaussianFourierProjection"/> or an Embedding table.</summary>
    public readonly nn.Module<Tensor, Tensor> time_proj;
    public readonly TimestepEmbedding time_embedding;
    /// <summary>Embedding table, <see cref="TimestepEmbedding"/> or identity; null without class conditioning.</summary>
    public readonly nn.Module<Tensor, Tensor>? class_embedding;
    /// <summary>Each an <see cref="IDownBlock2D"/>.</summary>
    public readonly ModuleList<nn.Module> down_blocks;
    public readonly UNetMidBlock2D? mid_block;
    /// <summary>Each an <see cref="IUpBlock2D"/>.</summary>
    public readonly ModuleList<nn.Module> up_blocks;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;

    readonly int downsampleFactor;

    /// <summary>The configuration this model was built from.</summary>
    public UNet2DModelConfig Config { get; }

    /// <summary>Builds a freshly initialised model (training mode, float32).</summary>
    /// <exception cref="ArgumentException">Inconsistent config (list lengths, missing num_class_embeds/num_train_timesteps).</exception>
    public UNet2DModel(UNet2DModelConfig config) : base(nameof(UNet2DModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Validate(config);
        Config = config;
        var channels = config.BlockOutChannels;
        long c0 = channels[0];
        long timeEmbedDim = config.TimeEmbedDim;

        conv_in = nn.Conv2d(config.InChannels, c0, 3, padding: 1);

        long timestepInputDim;
        switch (config.TimeEmbeddingType)
        {
            case TimeEmbeddingType.Fourier:
                time_proj = new GaussianFourierProjection(c0, scale: 16);
                timestepInputDim = 2 * c0;
                break;
            case TimeEmbeddingType.Learned:
                time_proj = nn.Embedding(config.NumTrainTimesteps!.Value, c0);
                timestepInputDim = c0;
                break;
            default:
                time_proj = new Timesteps(c0, config.FlipSinToCos, config.FreqShift);
                timestepInputDim = c0;
                break;
        }
        time_embedding = new TimestepEmbedding(timestepInputDim, timeEmbedDim);

        class_embedding = config.ClassEmbedType switch
        {
            null when config.NumClassEmbeds is int n => nn.Embedding(n, timeEmbedDim),
            ClassEmbedType.Timestep => new TimestepEmbedding(timestepInputDim, timeEmbedDim),
            ClassEmbedType.Identity => nn.Identity(),
            _ => null,
        };

        var resnet = new ResnetSettings(timeEmbedDim, config.NormEps, config.NormNumGroups, config.Dropout, config.ActFn, config.ResnetTimeScaleShift);
        int levels = channels.Count;

        down_blocks = new ModuleList<nn.Module>();
        long outputChannel = c0;
        for (int i = 0; i < levels; i++)
        {
            long inputChannel = outputChannel;
            outputChannel = channels[i];
            bool last = i == levels - 1;
            long headDim = config.AttentionHeadDim ?? outputChannel;
            down_blocks.append(config.DownBlockTypes[i] switch
            {
                DownBlockType.DownBlock2D => new DownBlock2D(inputChannel, outputChannel, resnet, config.LayersPerBlock, !last, config.DownsamplePadding),
                DownBlockType.AttnDownBlock2D => new AttnDownBlock2D(inputChannel, outputChannel, resnet, config.LayersPerBlock, headDim,
                    last ? null : config.DownsampleType, config.DownsamplePadding),
                _ => new ResnetDownsampleBlock2D(inputChannel, outputChannel, resnet, config.LayersPerBlock, !last),
            });
        }

        if (config.MidBlockType is not null)
        {
            long cLast = channels[^1];
            mid_block = new UNetMidBlock2D(cLast, resnet with { OutputScaleFactor = config.MidBlockScaleFactor }, 1,
                config.AttentionHeadDim ?? cLast, config.AttnNormNumGroups, config.AddAttention);
        }

        up_blocks = new ModuleList<nn.Module>();
        var reversed = channels.Reverse().ToArray();
        outputChannel = reversed[0];
        for (int i = 0; i < levels; i++)
        {
            long prevOutputChannel = outputChannel;
            outputChannel = reversed[i];
            long inputChannel = reversed[Math.Min(i + 1, levels - 1)];
            bool last = i == levels - 1;
            long headDim = config.AttentionHeadDim ?? outputChannel;
            int layers = config.LayersPerBlock + 1;
            up_blocks.append(config.UpBlockTypes[i] switch
            {
                UpBlockType.UpBlock2D => new UpBlock2D(inputChannel, prevOutputChannel, outputChannel, resnet, layers, !last),
                UpBlockType.AttnUpBlock2D => new AttnUpBlock2D(inputChannel, prevOutputChannel, outputChannel, resnet, layers, headDim,
                    last ? null : config.UpsampleType),
                _ => new ResnetUpsampleBlock2D(inputChannel, prevOutputChannel, outputChannel, resnet, layers, !last),
            });
        }

        conv_norm_out = new GroupNorm(config.NormNumGroups, (int)c0, config.NormEps);
        conv_out = nn.Conv2d(c0, config.OutChannels, 3, padding: 1);

        downsampleFactor = 1 << (levels - 1);
        RegisterComponents();
    }

    static void Validate(UNet2DModelConfig c)
    {
        if (c.BlockOutChannels is null || c.BlockOutChannels.Count == 0)
            throw new ArgumentException("block_out_channels must not be empty", nameof(c));
        if (c.DownBlockTypes.Count != c.BlockOutChannels.Count || c.UpBlockTypes.Count != c.BlockOutChannels.Count)
            throw new ArgumentException($"down_block_types ({c.DownBlockTypes.Count}), up_block_types ({c.UpBlockTypes.Count}) and " +
                $"block_out_channels ({c.BlockOutChannels.Count}) must have the same length", nameof(c));
        if (c.TimeEmbeddingType == TimeEmbeddingType.Learned && c.NumTrainTimesteps is null)
            throw new ArgumentException("time_embedding_type learned needs num_train_timesteps", nameof(c));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(c.InChannels, "in_channels");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(c.OutChannels, "out_channels");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(c.LayersPerBlock, "layers_per_block");
    }

    /// <summary>The dtype of the parameters (float32 unless converted).</summary>
    public ScalarType Dtype => conv_in.weight!.dtype;

    /// <summary>Predicts at one integer timestep shared by the batch.</summary>
    /// <param name="sample">(B, in_channels, H, W) noisy input; H and W multiples of 2^(levels-1).</param>
    /// <returns>(B, out_channels, H, W).</returns>
    public Tensor forward(Tensor sample, long timestep, Tensor? classLabels = null)
    {
        using var t = torch.tensor(new[] { timestep }, dtype: ScalarType.Int64, device: sample.device);
        return forward(sample, t, classLabels);
    }

    /// <param name="sample">(B, in_channels, H, W) noisy input; H and W multiples of 2^(levels-1).</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps (integer for positional/learned; noise levels σ for fourier).</param>
    /// <param name="classLabels">(B) int64 class indices (or features, for timestep/identity class embeddings); required
    /// exactly when the model has a class embedding.</param>
    /// <returns>(B, out_channels, H, W).</returns>
    /// <exception cref="ArgumentException">A shape that does not fit the model (the message gives expected and actual),
    /// or class labels given/missing against the config.</exception>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor? classLabels) => Forward(sample, timestep, classLabels, null, null);

    /// <summary>Forward with optional ControlNet residuals (both or neither), added to the skip states and after the mid block.</summary>
    /// <param name="sample">(B, in_channels, H, W) noisy input.</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="classLabels">(B) class labels when the model is class-conditional, else null.</param>
    /// <param name="downBlockAdditionalResiduals">One tensor per skip state (<see cref="NumSkipStates"/>), each shaped like it.</param>
    /// <param name="midBlockAdditionalResidual">Shaped like the mid block output (the deepest state).</param>
    /// <returns>(B, out_channels, H, W).</returns>
    /// <exception cref="ArgumentException">As <see cref="forward(Tensor, Tensor, Tensor?)"/>, or residuals whose count or shapes
    /// differ from the skip states (the message gives both).</exception>
    public Tensor Forward(Tensor sample, Tensor timestep, Tensor? classLabels,
        IReadOnlyList<Tensor>? downBlockAdditionalResiduals, Tensor? midBlockAdditionalResidual)
    {
        CheckSample(sample);
        ArgumentNullException.ThrowIfNull(timestep);
        long batch = sample.shape[0];
        if (timestep.dim() > 1 || (timestep.numel() != 1 && timestep.numel() != batch))
            throw new ArgumentException($"timestep must be a scalar, (1) or ({batch}); got {Shapes.Format(timestep)}", nameof(timestep));
        if (class_embedding is null && classLabels is not null)
            throw new ArgumentException("classLabels given, but the model has no class embedding (num_class_embeds/class_embed_type unset)", nameof(classLabels));
        if (class_embedding is not null)
        {
            if (classLabels is null)
                throw new ArgumentException("classLabels are required: the model is class-conditional", nameof(classLabels));
            if (classLabels.dim() < 1 || classLabels.shape[0] != batch)
                throw new ArgumentException($"classLabels must be ({batch}); got {Shapes.Format(classLabels)}", nameof(classLabels));
        }

        using var scope = torch.NewDisposeScope();
        var dtype = Dtype;
        // 0. optional centring of [0, 1] inputs
        if (Config.CenterInputSample) sample = 2 * sample - 1.0;

        // 1. time: broadcast to the batch, features (float32 for positional, as in the reference), then the MLP
        var timesteps = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep; // (1) or (B)
        timesteps = timesteps.to(sample.device) * ones(batch, dtype: timesteps.dtype, device: sample.device); // (B)
        var tEmb = time_proj.call(timesteps).to(dtype); // (B, timestep_input_dim)
        var emb = time_embedding.call(tEmb); // (B, time_embed_dim)
        if (class_embedding is not null)
        {
            var labels = Config.ClassEmbedType == ClassEmbedType.Timestep ? time_proj.call(classLabels!).to(dtype) : classLabels!;
            emb = emb + class_embedding.call(labels).to(dtype);
        }

        // 2. pre-process
        var h = conv_in.call(sample);

        // 3. down: keep every intermediate state for the skips
        var skips = new List<Tensor> { h };
        foreach (var block in down_blocks)
        {
            var output = ((IDownBlock2D)block).forward(h, emb);
            h = output.Sample;
            skips.AddRange(output.ResSamples);
        }

        if (downBlockAdditionalResiduals is not null || midBlockAdditionalResidual is not null)
            AddResiduals(skips, downBlockAdditionalResiduals, midBlockAdditionalResidual);

        // 4. mid
        if (mid_block is not null) h = mid_block.call(h, emb);
        if (midBlockAdditionalResidual is not null)
        {
            if (!midBlockAdditionalResidual.shape.SequenceEqual(h.shape))
                throw new ArgumentException($"midBlockAdditionalResidual must be {Shapes.Format(h)} like the UNet's mid block output; got {Shapes.Format(midBlockAdditionalResidual)}",
                    nameof(midBlockAdditionalResidual));
            h = h + midBlockAdditionalResidual;
        }

        // 5. up: each block consumes the last NumResnets skips
        foreach (var block in up_blocks)
        {
            var up = (IUpBlock2D)block;
            var res = skips.GetRange(skips.Count - up.NumResnets, up.NumResnets);
            skips.RemoveRange(skips.Count - up.NumResnets, up.NumResnets);
            h = up.Forward(h, res, emb);
        }

        // 6. post-process
        h = conv_out.call(nn.functional.silu(conv_norm_out.call(h)));
        if (Config.TimeEmbeddingType == TimeEmbeddingType.Fourier)
            h = h / timesteps.reshape(batch, 1, 1, 1); // the network predicts σ·output for score matching
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Number of skip states the encoder produces (conv_in's, one per resnet, one per downsampler) = ControlNet down residuals.</summary>
    public int NumSkipStates => 1 + down_blocks.Count * Config.LayersPerBlock + (down_blocks.Count - 1);

    void AddResiduals(List<Tensor> skips, IReadOnlyList<Tensor>? down, Tensor? mid)
    {
        if (down is null || mid is null)
            throw new ArgumentException("downBlockAdditionalResiduals and midBlockAdditionalResidual must be given together (ControlNet residuals); got only " +
                (down is null ? "midBlockAdditionalResidual" : "downBlockAdditionalResiduals"), nameof(down));
        if (down.Count != skips.Count)
            throw new ArgumentException($"downBlockAdditionalResiduals holds {down.Count} residuals, but this UNet has {skips.Count} skip states " +
                $"(block_out_channels [{string.Join(", ", Config.BlockOutChannels)}], layers_per_block {Config.LayersPerBlock})", "downBlockAdditionalResiduals");
        for (int i = 0; i < skips.Count; i++)
        {
            if (!down[i].shape.SequenceEqual(skips[i].shape))
                throw new ArgumentException($"downBlockAdditionalResiduals[{i}] must be {Shapes.Format(skips[i])} like the UNet's skip state {i}; got {Shapes.Format(down[i])}",
                    "downBlockAdditionalResiduals");
            skips[i] = skips[i] + down[i];
        }
    }

    void CheckSample(Tensor sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        string expected = downsampleFactor > 1
            ? $"(B, {Config.InChannels}, H, W) with H and W multiples of {downsampleFactor}"
            : $"(B, {Config.InChannels}, H, W)";
        if (sample.dim() != 4 || sample.shape[1] != Config.InChannels || sample.shape[2] % downsampleFactor != 0 || sample.shape[3] % downsampleFactor != 0)
            throw new ArgumentException($"sample must be {expected}; got {Shapes.Format(sample)}", nameof(sample));
        if (!sample.is_floating_point())
            throw new ArgumentException($"sample must be floating point; got {sample.dtype}", nameof(sample));
    }

    /// <summary>
    /// Loads a diffusers <c>save_pretrained</c> folder: <c>config.json</c> and <c>diffusion_pytorch_model.safetensors</c>,
    /// strictly (every key present, no extra keys, shapes equal). Returns the model in eval mode.
    /// </summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="dtype">Float32 (default) or Float64; weights are converted.</param>
    /// <exception cref="FileNotFoundException">config.json or the weights file is missing (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The config is not a UNet2DModel config or cannot be parsed.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not match the config (names the file and the keys).</exception>
    public static UNet2DModel FromPretrained(string directory, ScalarType dtype = ScalarType.Float32) =>
        PretrainedFolder.Load(directory, dtype, nameof(UNet2DModel), UNet2DModelConfig.FromFile, c => c.Extra, c => new UNet2DModel(c));

    /// <summary>
    /// Writes a diffusers model folder (config.json with <c>_class_name</c> "UNet2DModel", and the weights as safetensors
    /// in the model's dtype), each file atomically.
    /// </summary>
    public void SavePretrained(string directory) =>
        PretrainedFolder.Save(this, directory, (Config with { Extra = PretrainedFolder.WithClassName(Config.Extra, nameof(UNet2DModel)) }).ToJson());
}
