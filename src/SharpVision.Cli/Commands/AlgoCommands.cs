using System.Globalization;
using SharpVision.Algorithms.HashTables;
using SharpVision.Cli.CommandLine;

namespace SharpVision.Cli.Commands;

// The `algo` commands: thin wrappers over SharpVision.Algorithms.HashTables.HashTableAlgorithms.
// Integer lists are positionals such as "1,2,-3"; only words starting with "--" are options, so negatives pass through.

/// <summary><c>sharpvision algo anagram S T</c>: prints <c>true</c> or <c>false</c>.</summary>
public sealed class AlgoAnagramCommand : ICommand
{
    public string Name => "algo anagram";
    public string Summary => "Whether two strings hold the same Unicode code points (LeetCode 242)";
    public string Usage => """
        usage: sharpvision algo anagram S T
          Prints true when T is a rearrangement of S (ordinal, case-sensitive, a surrogate pair is one character),
          else false. Quote arguments with spaces; "" is the empty string.
        """;

    public int Run(Arguments args)
    {
        AlgoArgs.Expect(args, 2, "S T");
        args.Out.WriteLine(AlgoArgs.Bool(HashTableAlgorithms.IsAnagram(args.Positionals[0], args.Positionals[1])));
        return 0;
    }
}

/// <summary><c>sharpvision algo intersect A B</c>: prints the common values, comma-separated, ascending.</summary>
public sealed class AlgoIntersectCommand : ICommand
{
    public string Name => "algo intersect";
    public string Summary => "Distinct values present in two integer lists, ascending (LeetCode 349)";
    public string Usage => """
        usage: sharpvision algo intersect A B
          A, B: comma-separated integers, e.g. 1,2,2,1 and 2,2 (negatives allowed: -3,4; "" is empty).
          Prints the distinct common values comma-separated in ascending order, or an empty line when there are none.
        """;

    public int Run(Arguments args)
    {
        AlgoArgs.Expect(args, 2, "A B");
        var a = Arguments.IntList(args.Positionals[0], "A");
        var b = Arguments.IntList(args.Positionals[1], "B");
        args.Out.WriteLine(AlgoArgs.Join(HashTableAlgorithms.Intersection(a, b)));
        return 0;
    }
}

/// <summary><c>sharpvision algo happy N</c>: prints <c>true</c> or <c>false</c>.</summary>
public sealed class AlgoHappyCommand : ICommand
{
    public string Name => "algo happy";
    public string Summary => "Whether N is a happy number (LeetCode 202)";
    public string Usage => $"""
        usage: sharpvision algo happy N
          N: an integer from 1 to {int.MaxValue}. Prints true when repeatedly summing the squares of its digits reaches 1.
        """;

    public int Run(Arguments args)
    {
        AlgoArgs.Expect(args, 1, "N");
        var text = args.Positionals[0];
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
    public string Usage => """
        usage: sharpvision algo two-sum NUMS TARGET
          NUMS: comma-separated integers, e.g. 2,7,11,15; TARGET: an integer.
          Prints the 0-based indices i,j (i < j) of two distinct elements with nums[i] + nums[j] = TARGET, or none.
        """;

    public int Run(Arguments args)
    {
        AlgoArgs.Expect(args, 2, "NUMS TARGET");
        var nums = Arguments.IntList(args.Positionals[0], "NUMS");
        var text = args.Positionals[1];
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int target))
            throw new UsageException($"TARGET must be an integer from {int.MinValue} to {int.MaxValue}; got '{text}'");
        var pair = HashTableAlgorithms.TwoSum(nums, target);
        args.Out.WriteLine(pair is var (i, j) ? $"{i},{j}" : "none");
        return 0;
    }
}

/// <summary>Argument checks and output formats shared by the algo commands.</summary>
static class AlgoArgs
{
    public static void Expect(Arguments args, int count, string names)
    {
        args.RejectUnknown();
        if (args.Positionals.Count != count)
            throw new UsageException($"expected {count} argument(s) {names}; got {args.Positionals.Count}");
    }

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Join(int[] values) =>
        string.Join(',', values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
