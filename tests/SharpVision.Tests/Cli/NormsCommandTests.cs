using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;

namespace SharpVision.Tests.Cli;

/// <summary><c>sharpvision norms</c> end to end on a tiny budget, and its bad-input handling.</summary>
public sealed class NormsCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-norms-").FullName;

    static (int Code, string Err) Run(params string[] args)
    {
        var stderr = new StringWriter();
        int code = new CommandLineApp(Commands.All).Run(args, new StringWriter(), stderr);
        return (code, stderr.ToString());
    }

    [Fact]
    public void WritesCsvAndChartForEveryLayerAndBatchSize()
    {
        var (code, err) = Run("norms", "--images", "16", "--batch-sizes", "2,4", "--layers", "bn,gn,ln,in,sn", "--out", dir);
        Assert.True(code == 0, err);
        var rows = File.ReadAllLines(Path.Combine(dir, "norms.csv"));
        Assert.Equal("layer,batch_size,test_accuracy,final_train_loss,seconds", rows[0]);
        Assert.Equal(10, rows.Length - 1);
        foreach (var layer in new[] { "BN", "GN", "LN", "IN", "SN" })
            foreach (var bs in new[] { "2", "4" })
                Assert.Contains(rows, r => r.StartsWith($"{layer},{bs},", StringComparison.Ordinal));
        var png = File.ReadAllBytes(Path.Combine(dir, "norms.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [Fact]
    public void AMalformedIdxFileGivesOneLineAndExitCode2()
    {
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), [0, 0, 8, 3, 0, 0]);
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 0]);
        var (code, err) = Run("norms", "--data", dir, "--out", dir);
        Assert.Equal(2, code);
        Assert.Contains("train-images-idx3-ubyte", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--layers", "bn,xn", "unknown layer 'xn'")]
    [InlineData("--batch-sizes", "2,0", "positive")]
    [InlineData("--batch-sizes", "2,x", "not an integer")]
    [InlineData("--images", "-5", "--images")]
    [InlineData("--data", "/nonexistent/dir", "/nonexistent/dir")]
    public void BadOptionsExitWithCode2(string option, string value, string expected)
    {
        var (code, err) = Run("norms", option, value, "--out", dir);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
