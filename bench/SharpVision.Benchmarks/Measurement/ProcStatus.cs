namespace SharpVision.Benchmarks.Measurement;

/// <summary>Fields of /proc/self/status in kB (Linux), and the reset of the peak resident set.</summary>
static class ProcStatus
{
    public static long Kb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim());
        return 0;
    }

    /// <summary>Resets VmHWM to the current resident set (writing 5 to /proc/self/clear_refs); false where the kernel refuses.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>"peak resident set (VmHWM) N MiB, resident now M MiB".</summary>
    public static string PeakLine() => $"peak resident set (VmHWM) {Kb("VmHWM") / 1024.0:F0} MiB, resident now {Kb("VmRSS") / 1024.0:F0} MiB";
}
