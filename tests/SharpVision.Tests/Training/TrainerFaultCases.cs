using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Training;
using SharpVision.Tests.Cli;
using SharpVision.Tests.Segmentation.Training;
using SharpVision.Tests.Testing;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

/// <summary>
/// The five trainers' CLI runs the fault tests drive, each tiny and deterministic: 10 steps, a checkpoint every 2
/// (<see cref="CheckpointFolders"/> under <c>OUT/checkpoints</c>). Also what they share: a saved base UNet for the ControlNet,
/// a tiny SAM config, and each trainer's uninterrupted reference run (child process, one libtorch thread), made once.
/// </summary>
public sealed class TrainerFaultCases : IDisposable
{
    public const int Steps = 10, Every = 2;

    public static TheoryData<string> Trainers => ["diffusion", "controlnet", "vqvae", "sam", "classifier"];

    readonly DiffusionCliFixture unet = new();
    readonly Dictionary<string, string> references = [];
    public string Root { get; } = Directory.CreateTempSubdirectory("sv-faults-").FullName;
    string SamConfig => Path.Combine(Root, "tiny-sam.json");

    public TrainerFaultCases() => File.WriteAllText(SamConfig, TinySam.Config.ToJson());

    /// <summary>The command line that trains <paramref name="trainer"/> into <paramref name="outDir"/> (then with --resume).</summary>
    public string[] Args(string trainer, string outDir, bool resume = false)
    {
        string steps = Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), every = Every.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] args = trainer switch
        {
            "diffusion" => ["diffusion", "train", "--out", outDir, "--steps", steps, "--checkpoint-every", every, "--limit", "32", "--batch", "8",
                "--channels", "8,16", "--timesteps", "50", "--warmup", "1", "--sample-every", "0"],
            "controlnet" => ["controlnet", "train", "--base", unet.Model, "--scheduler", unet.Scheduler, "--out", outDir, "--steps", steps,
                "--checkpoint-every", every, "--batch", "4", "--limit", "8", "--stages", "8"],
            "vqvae" => ["vqvae", "train", "--out", outDir, "--steps", steps, "--save-every", every, "--quantizer", "ema-restart", "--channels", "8,16",
                "--groups", "4", "--codes", "16", "--latent", "3", "--no-attention", "--batch", "4", "--train-images", "8", "--test-images", "4"],
            "sam" => ["sam", "train", "--out", outDir, "--steps", steps, "--save-every", every, "--config", SamConfig, "--batch", "1"],
            "classifier" => ["classifier", "train", "--out", outDir, "--images", $"{Steps * 32}", "--batch", "32", "--limit", "128",
                "--checkpoint-every", every],
            _ => throw new ArgumentException($"unknown trainer {trainer}", nameof(trainer)),
        };
        return resume ? [.. args, "--resume"] : args;
    }

    /// <summary>The checkpoint root of a run folder.</summary>
    public static string Checkpoints(string outDir) => Path.Combine(outDir, "checkpoints");

    /// <summary>The run folder of <paramref name="trainer"/>'s uninterrupted run (made on first use).</summary>
    public string Reference(string trainer)
    {
        lock (references)
        {
            if (references.TryGetValue(trainer, out var done)) return done;
            var outDir = Path.Combine(Root, $"{trainer}-reference");
            using var child = CliProcess.Start(Args(trainer, outDir));
            Assert.True(child.Finish(() => { }) == 0, child.Output);
            return references[trainer] = outDir;
        }
    }

    /// <summary>
    /// What a reader of the checkpoint root may see at any instant: folders <c>checkpoint-N</c> that are complete (marker and
    /// trainer_state.json with step N), and temporary <c>.tmp-*</c> folders that <see cref="CheckpointFolders.Complete"/>
    /// ignores. A folder that vanishes while it is looked at was being renamed away, which is allowed.
    /// </summary>
    public static void AssertNoPartialCheckpoint(string root)
    {
        if (!Directory.Exists(root)) return;
        var complete = CheckpointFolders.Complete(root).Select(c => Path.GetFileName(c.Path)).ToHashSet();
        foreach (var dir in Directory.GetDirectories(root))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith(".tmp-", StringComparison.Ordinal))
            {
                Assert.DoesNotContain(name, complete);
                continue;
            }
            Assert.StartsWith(CheckpointFolders.Prefix, name);
            try
            {
                Assert.True(File.Exists(Path.Combine(dir, CheckpointFolders.CompleteMarker)) || !Directory.Exists(dir), $"{dir} has no marker");
                var (_, state) = CheckpointFolders.Load(dir);
                Assert.Equal(long.Parse(name.AsSpan(CheckpointFolders.Prefix.Length), System.Globalization.CultureInfo.InvariantCulture), CheckpointFolders.StepOf(state));
            }
            catch (Exception e) when (e is IOException && !Directory.Exists(dir))
            {
            }
        }
    }

    /// <summary>The weight and state files of a checkpoint (safetensors and torch.save files as tensors, the rest as bytes).</summary>
    public static IEnumerable<string> WeightFiles(string checkpoint) =>
        Directory.GetFiles(checkpoint, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not (CheckpointFolders.StateFile or CheckpointFolders.CompleteMarker) && !f.EndsWith(".json", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(checkpoint, f))
            .Order(StringComparer.Ordinal);

    /// <summary>Asserts that two checkpoints hold the same files with bit-identical tensors (bytes for other files).</summary>
    public static void AssertBitIdentical(string expected, string actual)
    {
        var files = WeightFiles(expected).ToList();
        Assert.Equal(files, WeightFiles(actual).ToList());
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            string a = Path.Combine(expected, file), b = Path.Combine(actual, file);
            if (file.EndsWith(".safetensors", StringComparison.Ordinal) || file.EndsWith(".pth", StringComparison.Ordinal))
            {
                using var scope = NewDisposeScope();
                var left = StateDict.Load(a);
                var right = StateDict.Load(b);
                Assert.Equal(left.Keys.Order(StringComparer.Ordinal), right.Keys.Order(StringComparer.Ordinal));
                foreach (var (key, t) in left)
                    Assert.True(t.dtype == right[key].dtype && t.shape.SequenceEqual(right[key].shape) && t.eq(right[key]).all().item<bool>(), $"{file}: {key} differs");
            }
            else Assert.True(File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)), $"{file} differs");
        }
    }

    public void Dispose()
    {
        unet.Dispose();
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
