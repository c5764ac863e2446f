using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;
using static SharpVision.Tests.Testing.InProcessCli;

namespace SharpVision.Tests.Algorithms;

public sealed class AlgoCommandsTests
{
    [Theory]
    [InlineData("anagram", "nagaram", "true\n")]
    [InlineData("rat", "car", "false\n")]
    [InlineData("", "", "true\n")]
    [InlineData("\uD83D\uDE00a", "a\uD83D\uDE00", "true\n")]
    public void Anagram(string s, string t, string expected) => Assert.Equal((0, expected, ""), Run("algo", "anagram", s, t));

    [Theory]
    [InlineData("1,2,2,1", "2,2", "2\n")]
    [InlineData("4,9,5", "9,4,9,8,4", "4,9\n")]
    [InlineData("-3,4", "4,-3,7", "-3,4\n")] // a leading '-' is a positional, not an option
    [InlineData("1,2", "3", "\n")]
    [InlineData("", "1", "\n")]
    [InlineData(" 5, -2147483648 ", "-2147483648,5", "-2147483648,5\n")]
    public void Intersect(string a, string b, string expected) => Assert.Equal((0, expected, ""), Run("algo", "intersect", a, b));

    [Theory]
    [InlineData("19", "true\n")]
    [InlineData("2", "false\n")]
    [InlineData("2147483647", "false\n")]
    public void Happy(string n, string expected) => Assert.Equal((0, expected, ""), Run("algo", "happy", n));

    [Theory]
    [InlineData("2,7,11,15", "9", "0,1\n")]
    [InlineData("3,3", "6", "0,1\n")]
    [InlineData("-1,-2,-3", "-5", "1,2\n")]
    [InlineData("1,2", "10", "none\n")]
    [InlineData("", "0", "none\n")]
    public void TwoSum(string nums, string target, string expected) => Assert.Equal((0, expected, ""), Run("algo", "two-sum", nums, target));

    [Theory]
    [InlineData("N must be between 1 and 2147483647; got 0", "algo", "happy", "0")]
    [InlineData("N must be between 1 and 2147483647; got -5", "algo", "happy", "-5")]
    [InlineData("N must be between 1 and 2147483647; got 2147483648", "algo", "happy", "2147483648")]
    [InlineData("N must be an integer from 1 to 2147483647; got 'abc'", "algo", "happy", "abc")]
    [InlineData("N must be an integer from 1 to 2147483647; got '99999999999999999999'", "algo", "happy", "99999999999999999999")]
    [InlineData("A: 'x' is not an integer", "algo", "intersect", "1,x", "2")]
    [InlineData("B: '' is not an integer", "algo", "intersect", "1", "2,,3")]
    [InlineData("A: '3000000000' is not an integer", "algo", "intersect", "3000000000", "2")]
    [InlineData("NUMS: '2.5' is not an integer", "algo", "two-sum", "2.5,1", "3")]
    [InlineData("TARGET must be an integer", "algo", "two-sum", "1,2", "ten")]
    [InlineData("expected 2 argument(s) S T; got 1", "algo", "anagram", "abc")]
    [InlineData("expected 1 argument(s) N; got 2", "algo", "happy", "1", "2")]
    [InlineData("unknown option(s): --fast", "algo", "happy", "7", "--fast", "yes")]
    public void BadInputPrintsOneLineAndExits2(string message, params string[] args)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(CommandLineApp.UserError, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void HelpShowsUsage()
    {
        var (code, stdout, _) = Run("algo", "intersect", "--help");
        Assert.Equal(0, code);
        Assert.Contains("usage: sharpvision algo intersect A B", stdout);
    }

    [Fact]
    public void CommandsAreListed()
    {
        var names = Commands.All.Select(c => c.Name).ToList();
        Assert.Contains("algo anagram", names);
        Assert.Contains("algo intersect", names);
        Assert.Contains("algo happy", names);
        Assert.Contains("algo two-sum", names);
    }
}
