using System.Diagnostics;
using System.Globalization;
using System.Text;
using SharpVision.Algorithms.HashTables;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>The hash-table section's budget.</summary>
/// <param name="Size">Elements of the large random inputs.</param>
public sealed record HashTableBudget(int Size = 1_000_000);

/// <summary>A problem on one input and its answer.</summary>
public sealed record HashTableExample(string Problem, string Input, string Answer);

/// <summary>A problem on a large input, its answer and its time (second run, after JIT warm-up).</summary>
public sealed record HashTableTiming(string Problem, string Input, string Answer, double Milliseconds);

/// <summary>What the hash-table section measured. The JSON names (snake_case) are the report's.</summary>
/// <param name="InputSize">Elements of the large random inputs.</param>
/// <param name="Examples">The textbook examples.</param>
/// <param name="Large">The large random inputs, timed.</param>
public sealed record HashTableResult(int InputSize, IReadOnlyList<HashTableExample> Examples, IReadOnlyList<HashTableTiming> Large);

/// <summary>Section 7: the four hash-table problems on their textbook examples and on large random inputs.</summary>
public sealed class HashTableStage : TourStage
{
    public override string Id => "hashtables";
    public override string Title => "Hash tables: anagram, intersection, happy number, two sum";
    public override double ExpectedSeconds => 3;

    public override StageResult Run(TourContext context)
    {
        var inv = CultureInfo.InvariantCulture;
        string Ints(IEnumerable<int> xs) => "[" + string.Join(", ", xs) + "]";
        var examples = new List<HashTableExample>
        {
            new("valid anagram", "\"anagram\", \"nagaram\"", Bool(HashTableAlgorithms.IsAnagram("anagram", "nagaram"))),
            new("valid anagram", "\"rat\", \"car\"", Bool(HashTableAlgorithms.IsAnagram("rat", "car"))),
            new("intersection", "[1, 2, 2, 1], [2, 2]", Ints(HashTableAlgorithms.Intersection([1, 2, 2, 1], [2, 2]))),
            new("intersection", "[4, 9, 5], [9, 4, 9, 8, 4]", Ints(HashTableAlgorithms.Intersection([4, 9, 5], [9, 4, 9, 8, 4]))),
            new("happy number", "19", Bool(HashTableAlgorithms.IsHappy(19))),
            new("happy number", "2", Bool(HashTableAlgorithms.IsHappy(2))),
            new("two sum", "[2, 7, 11, 15], target 9", Pair(HashTableAlgorithms.TwoSum([2, 7, 11, 15], 9))),
            new("two sum", "[3, 2, 4], target 6", Pair(HashTableAlgorithms.TwoSum([3, 2, 4], 6))),
        };
        context.Progress(0.1, "examples done; large inputs");

        int n = context.Budget.HashTables.Size;
        var rng = new Random(42);
        var letters = new StringBuilder(n);
        for (int i = 0; i < n; i++) letters.Append((char)('a' + rng.Next(26)));
        string s = letters.ToString();
        var shuffled = s.ToCharArray();
        rng.Shuffle(shuffled);
        string t = new(shuffled);
        var a = Enumerable.Range(0, n).Select(_ => rng.Next(0, 4 * n)).ToArray();
        var b = Enumerable.Range(0, n).Select(_ => rng.Next(0, 4 * n)).ToArray();
        var nums = Enumerable.Range(0, n).Select(_ => rng.Next(-1_000_000_000, 1_000_000_000)).ToArray();
        int target = nums[n / 3] + nums[2 * n / 3];

        var timings = new List<HashTableTiming>();
        void Time<T>(string problem, string input, Func<T> run, Func<T, string> show)
        {
            run(); // warm-up (JIT)
            var watch = Stopwatch.StartNew();
            var result = run();
            timings.Add(new(problem, input, show(result), watch.Elapsed.TotalMilliseconds));
        }
        Time("valid anagram", string.Create(inv, $"two {n:N0}-letter strings, one a shuffle of the other"), () => HashTableAlgorithms.IsAnagram(s, t), Bool);
        context.Progress(0.4, "intersection");
        Time("intersection", string.Create(inv, $"two arrays of {n:N0} values in [0, {4L * n:N0})"), () => HashTableAlgorithms.Intersection(a, b),
            r => string.Create(inv, $"{r.Length:N0} common values"));
        context.Progress(0.6, "happy numbers");
        Time("happy number", string.Create(inv, $"every n in 1..{n:N0}"), () => Enumerable.Range(1, n).Count(HashTableAlgorithms.IsHappy),
            c => string.Create(inv, $"{c:N0} happy"));
        context.Progress(0.8, "two sum");
        Time("two sum", string.Create(inv, $"{n:N0} random ints, target = a[n/3] + a[2n/3]"), () => HashTableAlgorithms.TwoSum(nums, target), Pair);

        var measured = new HashTableResult(n, examples, timings);
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "A hash table (or a counting array where the keys are small) answers membership and counting questions in expected O(1) per element, so each problem takes one or two linear passes.",
            Measured = string.Join("; ", measured.Large.Select(x => string.Create(inv, $"{x.Problem} on {x.Input}: {x.Answer} in {x.Milliseconds:F1} ms"))) + ".",
            Figures = StageResult.FiguresOf(measured),
            Tables =
            [
                new ReportTable("Textbook examples", ["problem", "input", "answer"], measured.Examples.Select(e => new[] { e.Problem, e.Input, e.Answer }).ToList()),
                new ReportTable("Large random inputs (second run, after JIT warm-up)", ["problem", "input", "answer", "ms"],
                    measured.Large.Select(x => new[] { x.Problem, x.Input, x.Answer, x.Milliseconds.ToString("F1", inv) }).ToList()),
            ],
        };
    }

    static string Bool(bool b) => b ? "true" : "false";
    static string Pair((int I, int J)? p) => p is { } q ? $"[{q.I}, {q.J}]" : "none";
}
