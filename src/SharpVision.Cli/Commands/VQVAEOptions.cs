using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.VQVAE;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary>Options shared by the <c>sharpvision vqvae</c> commands: data, architecture and training settings.</summary>
internal static class VQVAEOptions
{
    internal const string ModelUsage = """
          --data DIR          Fashion-MNIST IDX files; default: the embedded test split divided 8,000 train / 2,000 test
          --train-images N    use only the first N training images (default: all)
          --test-images N     evaluate on only the first N test images (default: all)
          --channels LIST     block_out_channels (default 16,32,64: 32×32 input -> 8×8 latents)
          --codes N           codebook size num_vq_embeddings (default 64)
          --latent N          latent_channels = code dimension (default 8)
          --groups N          norm_num_groups (default 8)
          --no-attention      no attention in the mid blocks
          --batch N           images per step (default 64)
          --lr RATE           Adam learning rate (default 1e-3)
          --seed N            weights, codebook and data order (default 0)
        """;

    internal static readonly string[] Flags = ["no-attention"];

    static readonly Dictionary<string, VQVAEVariant> Variants = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ste"] = VQVAEVariant.Ste, ["ema"] = VQVAEVariant.Ema, ["ema-restart"] = VQVAEVariant.EmaRestart,
    };

    internal static string VariantName(VQVAEVariant v) => Variants.First(kv => kv.Value == v).Key;

    internal static VQVAEVariant Variant(string text, string option) =>
        Variants.TryGetValue(text.Trim(), out var v) ? v : throw new UsageException($"--{option}: unknown quantizer '{text}' (allowed: {string.Join(", ", Variants.Keys)})");

    internal static VQModelConfig Config(Arguments args)
    {
        var defaults = new VQVAEArchitecture();
        var channels = Common.PositiveInts(args, "channels", defaults.BlockOutChannels);
        int groups = args.Int("groups", defaults.NormNumGroups, min: 1);
        if (channels.Any(c => c % groups != 0)) throw new UsageException($"--groups {groups} must divide every --channels entry ({string.Join(",", channels)})");
        if (32 % (1 << (channels.Length - 1)) != 0 || channels.Length > 6) throw new UsageException($"--channels: {channels.Length} stages do not divide the 32×32 input");
        return new VQVAEArchitecture
        {
            BlockOutChannels = channels, NormNumGroups = groups,
            LatentChannels = args.Int("latent", defaults.LatentChannels, min: 1, max: 1024),
            NumVqEmbeddings = args.Int("codes", defaults.NumVqEmbeddings, min: 2, max: 65536),
            MidBlockAddAttention = !args.Flag("no-attention"),
        }.ToConfig();
    }

    internal static VQVAETrainingOptions Training(Arguments args) => new()
    {
        BatchSize = args.Int("batch", 64, min: 1, max: 4096),
        LearningRate = args.Double("lr", 1e-3, min: 1e-8, max: 1),
        Seed = args.Int("seed", 0, min: 0),
    };

    /// <summary>Train and test images as model input (N, 1, 32, 32) in [−1, 1], limited by --train-images/--test-images.</summary>
    internal static (Tensor Train, Tensor Test, string Description) Data(Arguments args, bool needTrain = true)
    {
        var (train, test, description) = Common.FashionMnistSplits(args);
        int trainCount = args.Int("train-images", train.Count, min: 1, max: train.Count);
        int testCount = args.Int("test-images", test.Count, min: 1, max: test.Count);
        Tensor? trainTensor = needTrain ? VQVAETrainer.PrepareImages(train.Slice(0, trainCount), VQVAEArchitecture.ImageSize) : null;
        var testTensor = VQVAETrainer.PrepareImages(test.Slice(0, testCount), VQVAEArchitecture.ImageSize);
        return (trainTensor ?? empty(0), testTensor, $"{description} (using {trainCount:N0} / {testCount:N0}; 28×28 padded to 32×32)");
    }

}
