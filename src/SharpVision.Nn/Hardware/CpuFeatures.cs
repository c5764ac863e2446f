namespace SharpVision.Nn.Hardware;

/// <summary>Which instructions libtorch's bfloat16 matrix products (oneDNN) can run on.</summary>
public enum Bf16Path
{
    /// <summary>AMX tiles (<c>amx_bf16</c>): the fastest, several times fp32's rate.</summary>
    Amx,
    /// <summary>AVX-512 BF16 dot products (<c>avx512_bf16</c>): about twice fp32's rate.</summary>
    Avx512Bf16,
    /// <summary>Neither: bf16 is converted to fp32 around fp32 arithmetic, slower than plain fp32.</summary>
    Emulated,
}

/// <summary>
/// The CPU features that decide how fast bfloat16 runs, detected at run time: from the <c>flags</c> line of
/// /proc/cpuinfo on Linux (the kernel's names <c>amx_bf16</c>, <c>amx_tile</c>, <c>avx512_bf16</c>, <c>avx512f</c>),
/// else from <see cref="System.Runtime.Intrinsics.X86"/>, which reports AVX-512F but neither AMX nor AVX-512 BF16.
/// </summary>
/// <param name="AmxBf16">AMX tiles with bf16 multiplies (amx_bf16 and amx_tile).</param>
/// <param name="Avx512Bf16">AVX-512 bf16 conversions and dot products (avx512_bf16).</param>
/// <param name="Avx512F">AVX-512 foundation (avx512f).</param>
/// <param name="Source">Where the flags came from ("/proc/cpuinfo", "System.Runtime.Intrinsics" or "flags").</param>
public sealed record CpuFeatures(bool AmxBf16, bool Avx512Bf16, bool Avx512F, string Source)
{
    static readonly Lazy<CpuFeatures> current = new(Detect);

    /// <summary>This machine's features, detected once.</summary>
    public static CpuFeatures Current => current.Value;

    /// <summary>The bf16 path this CPU gives libtorch.</summary>
    public Bf16Path Bf16Path => AmxBf16 ? Bf16Path.Amx : Avx512Bf16 ? Bf16Path.Avx512Bf16 : Bf16Path.Emulated;

    /// <summary>Detects the features of this machine.</summary>
    public static CpuFeatures Detect()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (OperatingSystem.IsLinux() && File.Exists(cpuinfo))
        {
            try { return FromCpuInfo(File.ReadAllText(cpuinfo)) with { Source = cpuinfo }; }
            catch (IOException) { } // unreadable: fall back to what .NET reports
            catch (UnauthorizedAccessException) { }
        }
        return new CpuFeatures(AmxBf16: false, Avx512Bf16: false, Avx512F: System.Runtime.Intrinsics.X86.Avx512F.IsSupported, Source: "System.Runtime.Intrinsics");
    }

    /// <summary>Reads the first processor's <c>flags</c> line of a /proc/cpuinfo text (all processors list the same).</summary>
    /// <returns>No features when the text has no flags line.</returns>
    public static CpuFeatures FromCpuInfo(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var line in text.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() != "flags") continue;
            return FromFlags(line[(colon + 1)..]) with { Source = "/proc/cpuinfo" };
        }
        return new CpuFeatures(false, false, false, "/proc/cpuinfo");
    }

    /// <summary>Reads a space-separated list of kernel CPU flag names.</summary>
    public static CpuFeatures FromFlags(string flags)
    {
        ArgumentNullException.ThrowIfNull(flags);
        var set = new HashSet<string>(flags.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        return new CpuFeatures(set.Contains("amx_bf16") && set.Contains("amx_tile"), set.Contains("avx512_bf16"), set.Contains("avx512f"), "flags");
    }

    /// <summary>One line naming the bf16 path, e.g. "bf16 path: AVX-512 BF16 dot products (avx512_bf16; no amx_bf16)".</summary>
    public string Describe() => Bf16Path switch
    {
        Bf16Path.Amx => $"bf16 path: AMX tiles (amx_bf16{(Avx512Bf16 ? ", avx512_bf16" : "")}; from {Source})",
        Bf16Path.Avx512Bf16 => $"bf16 path: AVX-512 BF16 dot products (avx512_bf16; no amx_bf16; from {Source})",
        _ => $"bf16 path: none (no amx_bf16 or avx512_bf16{(Avx512F ? "; avx512f only" : "")}; from {Source}): bf16 is emulated and slower than fp32",
    };

    /// <summary>A warning for someone asking for bf16 on a CPU without a bf16 path; null when bf16 is fast here.</summary>
    public string? Bf16Warning() => Bf16Path == Bf16Path.Emulated
        ? $"warning: this CPU has neither AMX nor AVX-512 BF16 ({Source}), so bf16 will be slower than fp32"
        : null;
}
