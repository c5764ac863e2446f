namespace SharpVision.Algorithms.HashTables;

// LeetCode 202 "Happy Number": Floyd's cycle detection instead of the notes' linearly searched list.
public static partial class HashTableAlgorithms
{
    /// <summary>Sum of the squares of the decimal digits of 0..999, so a step costs three table reads, not ten divisions.</summary>
    static readonly int[] DigitSquareSums = BuildDigitSquareSums();

    static int[] BuildDigitSquareSums()
    {
        var table = new int[1000];
        for (int i = 0; i < table.Length; i++)
        {
            int a = i / 100, b = i / 10 % 10, c = i % 10;
            table[i] = a * a + b * b + c * c;
        }
        return table;
    }

    /// <summary>The next term of the happy-number sequence: the sum of the squares of <paramref name="n"/>'s digits.</summary>
    /// <param name="n">A non-negative number.</param>
    static int DigitSquareSum(int n)
    {
        int sum = 0;
        for (; n > 0; n /= 1000) sum += DigitSquareSums[n % 1000];
        return sum;
    }

    /// <summary>
    /// Whether <paramref name="n"/> is happy: repeatedly replacing it by the sum of the squares of its decimal digits
    /// reaches 1. Uses Floyd's tortoise and hare, so it allocates nothing and holds O(1) state.
    /// </summary>
    /// <remarks>
    /// <para>Why the walk ends: a number with d ≥ 4 digits is at least 10^(d-1), more than the largest digit-square
    /// sum of d digits, 81·d, so every term ≥ 1000 is followed by a smaller one; below 1000 the next term is at most
    /// 3·81 = 243. The sequence therefore enters [1, 999] and stays there, and a sequence confined to finitely many
    /// values is eventually periodic. Floyd's hare (two steps per turn) then meets the tortoise (one step) inside the
    /// cycle within one lap of it once both are in it. 1 is a fixed point (1² = 1), so n is happy exactly when the
    /// cycle found is {1}.</para>
    /// <para>For every int the first term is at most 1 + 9·81 = 730 (for 1,999,999,999), so the walk is short.</para>
    /// </remarks>
    /// <param name="n">1 ≤ n ≤ <see cref="int.MaxValue"/>.</param>
    /// <returns><c>true</c> when the sequence reaches 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> ≤ 0.</exception>
    public static bool IsHappy(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        int slow = n, fast = DigitSquareSum(n);
        while (fast != 1 && slow != fast)
        {
            slow = DigitSquareSum(slow);
            fast = DigitSquareSum(DigitSquareSum(fast));
        }
        return fast == 1;
    }

    /// <summary>
    /// The same answer as <see cref="IsHappy"/>, found by remembering every term in a hash set until 1 or a repeat;
    /// kept as the straightforward reference the Floyd version is tested and benchmarked against.
    /// </summary>
    /// <param name="n">1 ≤ n ≤ <see cref="int.MaxValue"/>.</param>
    /// <returns><c>true</c> when the sequence reaches 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> ≤ 0.</exception>
    public static bool IsHappyWithSet(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        var seen = new HashSet<int>();
        while (n != 1 && seen.Add(n)) n = DigitSquareSum(n);
        return n == 1;
    }
}
