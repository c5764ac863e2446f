namespace SharpVision.Nn.Training;

/// <summary>
/// The one source of the trainers' random seeds, counter-based: the draws of step n depend on (seed, stream, n) alone, so
/// a resumed run repeats the uninterrupted one with no generator state saved. A stream names a purpose (the data order,
/// a step's noise, SAM's prompts) so that the purposes never share a seed.
/// </summary>
public static class SeedMixer
{
    /// <summary>The stream of the data order (<see cref="BatchIndices"/>).</summary>
    public const int DataOrder = 1;

    /// <summary>SplitMix64's finaliser (Steele, Lea and Flood 2014) over a weighted sum of (seed, stream, counter).</summary>
    public static ulong Mix(long seed, int stream, long counter)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)stream * 0xBF58476D1CE4E5B9UL + (ulong)counter * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// The training-example indices of step <paramref name="step"/> (0-based): one permutation per epoch of N / B whole
    /// batches, <c>torch.randperm(N)</c> from a generator seeded by Mix(seed, <see cref="DataOrder"/>, epoch); the batch is
    /// its (step mod N / B)-th slice of B. The last N mod B examples of an epoch's order are not used in that epoch.
    /// </summary>
    /// <param name="count">Training examples N ≥ <paramref name="batchSize"/>.</param>
    /// <returns>(B) int64 indices into the examples.</returns>
    public static Tensor BatchIndices(long count, int batchSize, long seed, long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, batchSize);
        long stepsPerEpoch = count / batchSize;
        using var shuffle = new Generator(Mix(seed, DataOrder, step / stepsPerEpoch));
        return randperm(count, generator: shuffle).narrow(0, step % stepsPerEpoch * batchSize, batchSize); // (B)
    }
}
