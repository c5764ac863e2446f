using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn;
using SharpVision.Nn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Diffusion.Training;

/// <summary>Options of a <see cref="LatentDiffusion"/> run.</summary>
/// <param name="BatchSize">Latents per step.</param>
/// <param name="LearningRate">Adam learning rate.</param>
/// <param name="Seed">Weights, batch order, timesteps and noise.</param>
public sealed record LatentDiffusionOptions(int BatchSize = 64, double LearningRate = 1e-3, int Seed = 0);

/// <summary>
/// Latent diffusion (Rombach et al. 2022, https://arxiv.org/abs/2112.10752) on a trained VQ-VAE: a
/// <see cref="UNet2DModel"/> learns to predict the noise added to the (scaled, pre-quantisation) latents of the frozen
/// <see cref="VQModel"/>; DDIM sampling then produces latents that the VQ-VAE quantizes and decodes. The latents are
/// scaled by 1 / their standard deviation so that the noise schedule sees unit variance, as the paper does.
/// </summary>
public sealed class LatentDiffusion : IDisposable
{
    readonly Tensor latents;
    readonly TorchSharp.Modules.Adam optimizer;
    readonly Generator generator;
    readonly LatentDiffusionOptions options;

    /// <summary>The frozen autoencoder.</summary>
    public VQModel Vq { get; }
    /// <summary>The noise-prediction network on latents.</summary>
    public UNet2DModel Unet { get; }
    /// <summary>Shared by training (forward process) and sampling; no clipping, since latents are unbounded.</summary>
    public DDIMScheduler Scheduler { get; } = new(new DDIMSchedulerConfig { ClipSample = false });
    /// <summary>1 / std of the training latents.</summary>
    public double LatentScale { get; }
    /// <summary>Steps done.</summary>
    public long Step { get; private set; }

    /// <summary>A small UNet for (channels, size, size) inputs: two levels, attention at the lower one.</summary>
    public static UNet2DModelConfig UNetConfig(int channels, int size, int width = 64) => new()
    {
        SampleSize = [size], InChannels = channels, OutChannels = channels, BlockOutChannels = [width, 2 * width], LayersPerBlock = 1,
        NormNumGroups = 8, AttentionHeadDim = 8,
        DownBlockTypes = [DownBlockType.DownBlock2D, DownBlockType.AttnDownBlock2D],
        UpBlockTypes = [UpBlockType.AttnUpBlock2D, UpBlockType.UpBlock2D],
    };

    /// <summary>Encodes <paramref name="trainImages"/> once with the frozen VQ-VAE and prepares a UNet on its latents.</summary>
    /// <param name="vq">Trained VQ-VAE (left frozen, in eval mode).</param>
    /// <param name="unetConfig">in/out channels must equal the VQ code dimension.</param>
    /// <param name="trainImages">(N, C, H, W) in [−1, 1], N ≥ batch size.</param>
    /// <exception cref="ArgumentException">The UNet's channels do not match the latents, or too few images.</exception>
    public LatentDiffusion(VQModel vq, UNet2DModelConfig unetConfig, Tensor trainImages, LatentDiffusionOptions options)
    {
        ArgumentNullException.ThrowIfNull(vq);
        ArgumentNullException.ThrowIfNull(unetConfig);
        ArgumentNullException.ThrowIfNull(trainImages);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        if (unetConfig.InChannels != vq.Config.EmbedDim || unetConfig.OutChannels != vq.Config.EmbedDim)
            throw new ArgumentException($"the UNet must map {vq.Config.EmbedDim} latent channels to {vq.Config.EmbedDim}; got {unetConfig.InChannels} -> {unetConfig.OutChannels}", nameof(unetConfig));
        if (trainImages.shape[0] < options.BatchSize)
            throw new ArgumentException($"trainImages holds {trainImages.shape[0]} images, fewer than one batch of {options.BatchSize}", nameof(trainImages));
        Vq = vq;
        this.options = options;
        vq.eval();
        foreach (var p in vq.parameters()) p.requires_grad = false;
        using (torch.no_grad())
        {
            var parts = new List<Tensor>();
            for (long start = 0; start < trainImages.shape[0]; start += 250)
                parts.Add(vq.Encode(trainImages.narrow(0, start, Math.Min(250, trainImages.shape[0] - start))));
            var raw = cat(parts, 0); // (N, C, h, w)
            foreach (var p in parts) p.Dispose();
            LatentScale = 1.0 / raw.std().item<float>();
            latents = raw.mul_(LatentScale);
        }
        generator = new Generator((ulong)options.Seed + 17);
        Unet = new UNet2DModel(unetConfig);
        SeededInit.Apply(Unet, generator);
        optimizer = optim.Adam(Unet.parameters(), options.LearningRate);
    }

    /// <summary>(C, h, w) of one latent.</summary>
    public long[] LatentShape => latents.shape[1..];

    /// <summary>One step of ε-prediction: x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε for uniform t, loss = mse(UNet(x_t, t), ε).</summary>
    /// <returns>The loss.</returns>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite (the optimizer does not take the step).</exception>
    public double TrainStep()
    {
        using var scope = torch.NewDisposeScope();
        Unet.train();
        long n = latents.shape[0];
        var index = randint(n, [options.BatchSize], generator: generator);
        var x0 = latents.index_select(0, index);
        var noise = randn(x0.shape, generator: generator);
        var t = randint(Scheduler.Config.NumTrainTimesteps, [options.BatchSize], generator: generator);
        var xt = Scheduler.AddNoise(x0, noise, t);
        optimizer.zero_grad();
        var loss = nn.functional.mse_loss(Unet.forward(xt, t, null), noise);
        double value = loss.item<float>();
        TrainingDivergedException.ThrowIfNotFinite(value, Step + 1, lastCheckpoint: null);
        loss.backward();
        optimizer.step();
        Step++;
        return value;
    }

    /// <summary>Runs <paramref name="steps"/> more steps, reporting each step's loss.</summary>
    public void Train(long steps, Action<long, double>? progress = null, CancellationToken cancel = default)
    {
        for (long i = 0; i < steps; i++)
        {
            cancel.ThrowIfCancellationRequested();
            double loss = TrainStep();
            progress?.Invoke(Step, loss);
        }
    }

    /// <summary>Deterministic DDIM (η = 0) from seeded noise of shape <paramref name="shape"/> with any ε-predicting UNet.</summary>
    /// <param name="shape">(B, C, H, W) of the samples.</param>
    /// <returns>(B, C, H, W) x_0.</returns>
    public static Tensor DdimSample(UNet2DModel unet, DDIMScheduler scheduler, long[] shape, int steps, long seed)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        unet.eval();
        using var noGrad = torch.no_grad();
        using var g = new Generator((ulong)seed);
        var x = randn(shape, generator: g);
        scheduler.SetTimesteps(steps);
        foreach (var t in scheduler.Timesteps)
        {
            using var scope = torch.NewDisposeScope();
            var eps = unet.forward(x, t);
            var next = scheduler.Step(eps, t, x).PrevSample.MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
        }
        return x;
    }

    /// <summary>Samples latents with DDIM, unscales them and decodes them through the VQ-VAE (which quantizes them first).</summary>
    /// <returns>(count, C_img, H, W) images in the VQ-VAE's output range ([−1, 1] for Fashion-MNIST inputs).</returns>
    public Tensor Sample(int count, int steps, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var scope = torch.NewDisposeScope();
        var z = DdimSample(Unet, Scheduler, [count, .. LatentShape], steps, seed);
        using var noGrad = torch.no_grad();
        return Vq.Decode(z / LatentScale).Sample.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        optimizer.Dispose();
        Unet.Dispose();
        latents.Dispose();
        generator.Dispose();
    }
}
