using System.CommandLine;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.VQVAE;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary>Options shared by the <c>sharpvision vqvae</c> commands: data, architecture and training settings.</summary>
internal static class VQVAEOptions
{
    static readonly Option<int?> TrainImages = Opt.OptionalInt("--train-images", "use only the first N training images (default: all)", min: 1);
    static readonly Option<int?> TestImages = Opt.OptionalInt("--test-images", "evaluate on only the first N test images (default: all)", min: 1);
    static readonly VQVAEArchitecture Defaults = new();
    static readonly Option<int[]> Channels = Opt.PositiveInts("--channels", "block_out_channels (16,32,64: 32×32 input -> 8×8 latents)", Defaults.BlockOutChannels);
    static readonly Option<int> Codes = Opt.Int("--codes", "codebook size num_vq_embeddings", Defaults.NumVqEmbeddings, min: 2, max: 65536);
    static readonly Option<int> Latent = Opt.Int("--latent", "latent_channels = code dimension", Defaults.LatentChannels, min: 1, max: 1024);
    static readonly Option<int> Groups = Opt.Int("--groups", "norm_num_groups", Defaults.NormNumGroups, min: 1);
    static readonly Option<bool> NoAttention = Opt.Flag("--no-attention", "no attention in the mid blocks");
    static readonly Option<int> Batch = Opt.Int("--batch", "images per step", 64, min: 1, max: 4096);
    internal static readonly Option<double> Lr = Opt.Double("--lr", "Adam learning rate", 1e-3, min: 1e-8, max: 1, metavar: "RATE");
    static readonly Option<int> Seed = Opt.Int("--seed", "weights, codebook and data order", 0, min: 0);

    /// <summary>The options <see cref="Data"/> reads.</summary>
    internal static IEnumerable<Symbol> DataSymbols => [Common.Data, TrainImages, TestImages];

    /// <summary>The options <see cref="Data"/>, <see cref="Config"/> and <see cref="Training"/> read.</summary>
    internal static IEnumerable<Symbol> ModelSymbols => [.. DataSymbols, Channels, Codes, Latent, Groups, NoAttention, Batch, Lr, Seed];

    static readonly Dictionary<string, VQVAEVariant> Variants = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ste"] = VQVAEVariant.Ste, ["ema"] = VQVAEVariant.Ema, ["ema-restart"] = VQVAEVariant.EmaRestart,
    };

    internal static string VariantName(VQVAEVariant v) => Variants.First(kv => kv.Value == v).Key;

    internal static VQVAEVariant Variant(string text, string option) =>
        Variants.TryGetValue(text.Trim(), out var v) ? v : throw new UsageException($"--{option}: unknown quantizer '{text}' (allowed: {string.Join(", ", Variants.Keys)})");

    internal static VQModelConfig Config(ParseResult args)
    {
        var channels = args.GetValue(Channels)!;
        int groups = args.GetValue(Groups);
        if (channels.Any(c => c % groups != 0)) throw new UsageException($"--groups {groups} must divide every --channels entry ({string.Join(",", channels)})");
        if (32 % (1 << (channels.Length - 1)) != 0 || channels.Length > 6) throw new UsageException($"--channels: {channels.Length} stages do not divide the 32×32 input");
        return new VQVAEArchitecture
        {
            BlockOutChannels = channels, NormNumGroups = groups,
            LatentChannels = args.GetValue(Latent),
            NumVqEmbeddings = args.GetValue(Codes),
            MidBlockAddAttention = !args.GetValue(NoAttention),
        }.ToConfig();
    }

    internal static VQVAETrainingOptions Training(ParseResult args) => new()
    {
        BatchSize = args.GetValue(Batch),
        LearningRate = args.GetValue(Lr),
        Seed = args.GetValue(Seed),
    };

    /// <summary>Train and test images as model input (N, 1, 32, 32) in [−1, 1], limited by --train-images/--test-images.</summary>
    internal static (Tensor Train, Tensor Test, string Description) Data(ParseResult args, bool needTrain = true)
    {
        var (train, test, description) = Common.FashionMnistSplits(args);
        int trainCount = args.GetValue(TrainImages, train.Count, min: 1, max: train.Count);
        int testCount = args.GetValue(TestImages, test.Count, min: 1, max: test.Count);
        Tensor? trainTensor = needTrain ? VQVAETrainer.PrepareImages(train.Slice(0, trainCount), VQVAEArchitecture.ImageSize) : null;
        var testTensor = VQVAETrainer.PrepareImages(test.Slice(0, testCount), VQVAEArchitecture.ImageSize);
        return (trainTensor ?? empty(0), testTensor, $"{description} (using {trainCount:N0} / {testCount:N0}; 28×28 padded to 32×32)");
    }

}
