using System.Globalization;
using System.CommandLine;
using SharpVision.Algorithms.HashTables;
using SharpVision.Cli.CommandLine;

namespace SharpVision.Cli.Commands;

// The `algo` commands: thin wrappers over SharpVision.Algorithms.HashTables.HashTableAlgorithms.
// Integer lists are positionals such as "1,2,-3"; only words starting with "--" are options, so negatives pass through.
// System.CommandLine checks the number of arguments ("expected 2 argument(s) S T; got 1").

/// <summary><c>sharpvision algo anagram S T</c>: prints <c>true</c> or <c>false</c>.</summary>
public sealed class AlgoAnagramCommand : ICommand
{
    public string Name => "algo anagram";
    public string Summary => "Whether two strings hold the same Unicode code points (LeetCode 242)";
    public string Notes => """
        Prints true when T is a rearrangement of S (ordinal, case-sensitive, a surrogate pair is one character),
        else false. Quote arguments with spaces; "" is the empty string.
        """;

    static readonly Argument<string> S = Opt.Positional("S", "the first string");
    static readonly Argument<string> T = Opt.Positional("T", "the second string");
    public IEnumerable<Symbol> Symbols => [S, T];

    public int Run(ParseResult args)
    {
        args.Out.WriteLine(AlgoArgs.Bool(HashTableAlgorithms.IsAnagram(args.GetValue(S)!, args.GetValue(T)!)));
        return 0;
    }
}

/// <summary><c>sharpvision algo intersect A B</c>: prints the common values, comma-separated, ascending.</summary>
public sealed class AlgoIntersectCommand : ICommand
{
    public string Name => "algo intersect";
    public string Summary => "Distinct values present in two integer lists, ascending (LeetCode 349)";
    public string Notes => """
        Prints the distinct common values comma-separated in ascending order, or an empty line when there are none.
        """;

    static readonly Argument<string> A = Opt.Positional("A", "comma-separated integers, e.g. 1,2,2,1 (negatives allowed: -3,4; \"\" is empty)");
    static readonly Argument<string> B = Opt.Positional("B", "comma-separated integers, e.g. 2,2");
    public IEnumerable<Symbol> Symbols => [A, B];

    public int Run(ParseResult args)
    {
        var a = Opt.IntList(args.GetValue(A)!, "A");
        var b = Opt.IntList(args.GetValue(B)!, "B");
        args.Out.WriteLine(AlgoArgs.Join(HashTableAlgorithms.Intersection(a, b)));
        return 0;
    }
}

/// <summary><c>sharpvision algo happy N</c>: prints <c>true</c> or <c>false</c>.</summary>
public sealed class AlgoHappyCommand : ICommand
{
    public string Name => "algo happy";
    public string Summary => "Whether N is a happy number (LeetCode 202)";
    public string Notes => "Prints true when repeatedly summing the squares of its digits reaches 1.";

    static readonly Argument<string> N = Opt.Positional("N", $"an integer from 1 to {int.MaxValue}");
    public IEnumerable<Symbol> Symbols => [N];

    public int Run(ParseResult args)
    {
        var text = args.GetValue(N)!;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n))
            throw new UsageException($"N must be an integer from 1 to {int.MaxValue}; got '{text}'");
        if (n is < 1 or > int.MaxValue)
            throw new UsageException($"N must be between 1 and {int.MaxValue}; got {n}");
        args.Out.WriteLine(AlgoArgs.Bool(HashTableAlgorithms.IsHappy((int)n)));
        return 0;
    }
}

/// <summary><c>sharpvision algo two-sum NUMS TARGET</c>: prints <c>i,j</c> or <c>none</c>.</summary>
public sealed class AlgoTwoSumCommand : ICommand
{
    public string Name => "algo two-sum";
    public string Summary => "Indices of two elements that sum to a target (LeetCode 1)";
    public string Notes => "Prints the 0-based indices i,j (i < j) of two distinct elements with nums[i] + nums[j] = TARGET, or none.";

    static readonly Argument<string> Nums = Opt.Positional("NUMS", "comma-separated integers, e.g. 2,7,11,15");
    static readonly Argument<string> Target = Opt.Positional("TARGET", "an integer");
    public IEnumerable<Symbol> Symbols => [Nums, Target];

    public int Run(ParseResult args)
    {
        var nums = Opt.IntList(args.GetValue(Nums)!, "NUMS");
        var text = args.GetValue(Target)!;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int target))
            throw new UsageException($"TARGET must be an integer from {int.MinValue} to {int.MaxValue}; got '{text}'");
        var pair = HashTableAlgorithms.TwoSum(nums, target);
        args.Out.WriteLine(pair is var (i, j) ? $"{i},{j}" : "none");
        return 0;
    }
}

/// <summary>Output formats shared by the algo commands.</summary>
static class AlgoArgs
{
    public static string Bool(bool value) => value ? "true" : "false";

    public static string Join(int[] values) =>
        string.Join(',', values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
