using System.Runtime.InteropServices;

namespace SharpVision.Nn.Memory;

/// <summary>
/// Two settings of glibc's allocator for libtorch's large tensors, one for memory and one for speed.
/// <para>
/// <see cref="ReturnLargeBlocksToTheSystem"/>: glibc's allocator keeps freed large blocks in the heap once its mmap threshold has grown past them (the threshold
/// follows the largest block freed, up to 32 MiB), so a long model run's resident set creeps up with every step.
/// Fixing the thresholds hands blocks above them back to the system when libtorch frees them: on Stable Diffusion 1.5
/// at 512² (6 steps, fp32) the peak resident set fell from 7.3 to 6.2 GiB. This is what
/// <c>MALLOC_MMAP_THRESHOLD_</c>/<c>MALLOC_TRIM_THRESHOLD_</c> do, set from code because a process cannot set its own environment
/// for the allocator after it starts.
/// </para>
/// <para>
/// <see cref="KeepFreedBlocksForReuse"/>: the opposite trade. A block glibc mmaps costs a page fault per 4 KiB page the
/// first time it is written, the kernel zeroing each page, and every tensor above the threshold is a fresh block: SAM's
/// vit_b encoder allocates 805 MB attention matrices and 50 MB MLP activations per block, 4.9 million faults in two
/// forwards by default and 0.7 million with the heap reused. Serving every block from the heap and never trimming it
/// removes them (vit_b fp32 8.2 instead of 11.8 s), at the price of the process keeping its peak memory until it exits.
/// Two limits, both measured: the gain shows on the process's main thread only (glibc's per-thread arenas fall back to
/// mmap for blocks larger than their 64 MiB heaps whatever M_MMAP_MAX says: BenchmarkDotNet's in-process runner, which
/// runs benchmarks on a thread of its own, saw 14.5 s for vit_b fp32 where the main thread took 7.3; started with
/// <c>MALLOC_ARENA_MAX=1</c> in its environment, so every thread shares the main heap, it took 7.1 — do the same for a
/// host that runs models on worker threads); and a workload whose tensor sizes vary, SAM's automatic mask generator
/// with batches of 64 prompts, fragments the never-trimmed heap (peak 13–19 GiB against 3.5).
/// </para>
/// </summary>
public static class NativeHeap
{
    const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    /// <summary>Blocks of at least <paramref name="thresholdBytes"/> are mmapped and unmapped when freed (glibc on Linux only).</summary>
    /// <returns>True when glibc took both settings; false elsewhere (another OS or C library), where nothing changes.</returns>
    public static bool ReturnLargeBlocksToTheSystem(int thresholdBytes = 128 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(thresholdBytes);
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            // M_MMAP_MAX back to glibc's default (65,536 blocks), in case KeepFreedBlocksForReuse set it to 0.
            return Mallopt(M_MMAP_MAX, 65536) == 1 && Mallopt(M_MMAP_THRESHOLD, thresholdBytes) == 1 &&
                   Mallopt(M_TRIM_THRESHOLD, thresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every block comes from glibc's heap (no mmap) and freed memory stays there for the next tensor (no trimming), so
    /// repeated large tensors cost no page faults (glibc on Linux only). Process-wide, and undone only by another call.
    /// </summary>
    /// <returns>True when glibc took both settings; false elsewhere, where nothing changes.</returns>
    public static bool KeepFreedBlocksForReuse()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return Mallopt(M_MMAP_MAX, 0) == 1 && Mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
