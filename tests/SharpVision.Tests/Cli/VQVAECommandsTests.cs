using System.Text.Json;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;
using SharpVision.Diffusion.Training;
using SharpVision.Nn.Training;

namespace SharpVision.Tests.Cli;

/// <summary>The <c>sharpvision vqvae</c> commands end to end on a tiny model and a few images.</summary>
public sealed class VQVAECommandsTests() : TempFolderTest("sv-vqvae-cli-")
{
    static readonly string[] Tiny =
        ["--channels", "8,16", "--groups", "4", "--codes", "16", "--latent", "3", "--no-attention", "--batch", "4", "--train-images", "8", "--test-images", "4"];

    static (int Code, string Err) Run(params string[] args)
    {
        var err = new StringWriter();
        int code = new CommandLineApp(Commands.All).Run(args, new StringWriter(), err);
        return (code, err.ToString());
    }

    [Fact]
    public void CompareWritesATableWithOneRowPerVariantAndAConclusion()
    {
        var (code, err) = Run(["vqvae", "compare", "--out", Temp, "--steps", "2", .. Tiny]);
        Assert.True(code == 0, err);
        var csv = File.ReadAllLines(Path.Combine(Temp, "vqvae-compare.csv"));
        Assert.Equal(4, csv.Length);
        Assert.StartsWith("variant,test_mse,perplexity,codes_used_percent", csv[0]);
        Assert.Contains(csv, l => l.StartsWith("EmaRestart,", StringComparison.Ordinal));
        var md = File.ReadAllText(Path.Combine(Temp, "vqvae-compare.md"));
        Assert.Contains("| STE (codebook + commitment loss) |", md);
        Assert.Contains("reconstructs best", md);
    }

    [Fact]
    public void TrainResumeAndReconstruct()
    {
        var (code, err) = Run(["vqvae", "train", "--out", Temp, "--steps", "2", "--quantizer", "ema", .. Tiny]);
        Assert.True(code == 0, err);
        var checkpoint = CheckpointFolders.Latest(Path.Combine(Temp, "checkpoints"))!;
        Assert.True(File.Exists(Path.Combine(checkpoint, VQVAETrainer.ModelFolder, "diffusion_pytorch_model.safetensors")));

        (code, err) = Run(["vqvae", "train", "--out", Temp, "--steps", "3", "--resume", .. Tiny]);
        Assert.True(code == 0, err);
        checkpoint = CheckpointFolders.Latest(Path.Combine(Temp, "checkpoints"))!;
        using (var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, VQVAETrainer.StateFile))))
            Assert.Equal(3, state.RootElement.GetProperty("step").GetInt64());

        var png = Path.Combine(Temp, "recon.png");
        (code, err) = Run("vqvae", "reconstruct", "--checkpoint", checkpoint, "--out", png, "--count", "4", "--test-images", "4");
        Assert.True(code == 0, err);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(0x89, bytes[0]);
        Assert.Equal((byte)'P', bytes[1]);

        var samples = Path.Combine(Temp, "ldm.png");
        (code, err) = Run("vqvae", "ldm", "--checkpoint", checkpoint, "--out", samples, "--steps", "2", "--batch", "4", "--width", "8",
            "--sample-steps", "2", "--count", "2", "--train-images", "8");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(samples));
    }

    [Fact]
    public void UserErrorsAreOneLineWithExitCode2()
    {
        var (code, err) = Run("vqvae", "train", "--quantizer", "kmeans", "--out", Temp);
        Assert.Equal(2, code);
        Assert.Contains("unknown quantizer 'kmeans'", err);
        Assert.Contains("ema-restart", err);

        (code, err) = Run("vqvae", "reconstruct", "--checkpoint", Path.Combine(Temp, "missing"));
        Assert.Equal(2, code);
        Assert.Contains("missing", err);

        (code, err) = Run("vqvae", "compare", "--channels", "8,12", "--groups", "8", "--out", Temp);
        Assert.Equal(2, code);
        Assert.Contains("--groups", err);
    }
}
