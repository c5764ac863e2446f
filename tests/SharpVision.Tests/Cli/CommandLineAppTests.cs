using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;
using static SharpVision.Tests.Testing.InProcessCli;

namespace SharpVision.Tests.Cli;

/// <summary>The command tree on System.CommandLine: generated help, completion, and parse errors as one line with exit code 2.</summary>
public sealed class CommandLineAppTests
{
    public static TheoryData<string> Names() => [.. Commands.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryCommandHasHelpWithItsUsageLineAndOptions(string name)
    {
        var (code, stdout, stderr) = Run([.. name.Split(' '), "--help"]);
        Assert.True(code == 0, stderr);
        Assert.StartsWith($"usage: sharpvision {name} ", stdout);
        Assert.Contains(Commands.All.Single(c => c.Name == name).Summary, stdout);
        Assert.Contains("--help", stdout);
    }

    [Fact]
    public void HelpShowsDefaultsAndRequiredOptions()
    {
        var (code, stdout, _) = Run("vqvae", "reconstruct", "--help");
        Assert.Equal(0, code);
        Assert.StartsWith("usage: sharpvision vqvae reconstruct --checkpoint DIR [options]", stdout);
        Assert.Contains("(default 16)", stdout);
        Assert.Contains("(required)", stdout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--help")]
    [InlineData("help")]
    public void NoCommandListsEveryCommandAndExits0(string words)
    {
        var (code, stdout, _) = Run(words.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(0, code);
        foreach (var c in Commands.All) Assert.Contains(c.Name, stdout);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("algo")]
    public void UnknownCommandExits2WithTheListOnStderr(string word)
    {
        var (code, stdout, stderr) = Run(word);
        Assert.Equal(CommandLineApp.UserError, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"unknown command: {word}", stderr);
        Assert.Contains("algo two-sum", stderr);
    }

    [Theory]
    [InlineData("unknown option(s): --step", "vqvae", "train", "--step", "3")]
    [InlineData("--checkpoint is required", "vqvae", "reconstruct")]
    [InlineData("--steps needs a value", "vqvae", "train", "--steps")]
    [InlineData("--steps must be an integer; got 'ten'", "vqvae", "train", "--steps", "ten")]
    [InlineData("--steps must be between 1 and 2147483647; got 0", "vqvae", "train", "--steps=0")]
    [InlineData("--lr must be a number; got 'fast'", "vqvae", "train", "--lr", "fast")]
    [InlineData("--channels must list positive integers; got '8,0'", "vqvae", "train", "--channels", "8,0")]
    [InlineData("unexpected argument(s): extra", "vqvae", "train", "extra")]
    public void ParseErrorsAreOneLineWithExitCode2(string message, params string[] args)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(CommandLineApp.UserError, code);
        Assert.Equal("", stdout);
        Assert.Equal($"error: {message}\n", stderr);
    }

    [Fact]
    public void AnOptionGivenTwiceTakesTheLastValue()
    {
        var (code, _, stderr) = Run("vqvae", "train", "--steps", "0", "--steps", "ten");
        Assert.Equal(CommandLineApp.UserError, code);
        Assert.Equal("error: --steps must be an integer; got 'ten'\n", stderr);
    }

    [Theory]
    [InlineData("algo ", "anagram\nhappy\nintersect\ntwo-sum")]
    [InlineData("tour --budget ", "full\nquick\nsmoke")]
    [InlineData("segment --model-type vit_", "vit_b\nvit_h\nvit_l\nvit_t")]
    public void SuggestDirectiveCompletes(string line, string expected)
    {
        var (code, stdout, _) = Run($"[suggest:{line.Length}]", line);
        Assert.Equal(0, code);
        Assert.Contains(expected, stdout);
    }
}
