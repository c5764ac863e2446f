namespace SharpVision.Algorithms.HashTables;

// LeetCode 1 "Two Sum", one pass with a value → index table.
public static partial class HashTableAlgorithms
{
    /// <summary>
    /// Indices <c>I &lt; J</c> of two distinct elements with <c>nums[I] + nums[J] == target</c>, or null when no such
    /// pair exists. The sum is taken in 64-bit arithmetic, so values near <see cref="int.MinValue"/> or
    /// <see cref="int.MaxValue"/> never wrap into a false match.
    /// </summary>
    /// <remarks>
    /// One pass, O(n) expected time: for each j, look up target − nums[j] among the elements before j, then record
    /// nums[j]. Looking up before recording is what lets an element pair with an equal one but never with itself
    /// ([3, 3], 6 → (0, 1); [3], 6 → null). Of several pairs, the one with the smallest J is returned, and with it
    /// the smallest I (only the first index of each value is kept).
    /// </remarks>
    /// <param name="nums">The values (duplicates allowed).</param>
    /// <param name="target">The sum sought.</param>
    /// <returns>The pair of indices, or null.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="nums"/> is null.</exception>
    public static (int I, int J)? TwoSum(int[] nums, int target)
    {
        ArgumentNullException.ThrowIfNull(nums);
        var firstIndex = new Dictionary<int, int>(nums.Length);
        for (int j = 0; j < nums.Length; j++)
        {
            long complement = (long)target - nums[j];
            // A complement outside int's range cannot be in the array.
            if (complement is >= int.MinValue and <= int.MaxValue && firstIndex.TryGetValue((int)complement, out int i))
                return (i, j);
            firstIndex.TryAdd(nums[j], j);
        }
        return null;
    }
}
