namespace SharpVision.Benchmarks.Measurement;

/// <summary>The CPU's bfloat16 instructions as /proc/cpuinfo lists them (Linux): libtorch's bf16 GEMMs use AMX tiles
/// (amx_bf16) or AVX-512 dot products (avx512_bf16) when present, and convert to fp32 otherwise.</summary>
static class CpuFeatures
{
    public static string Bf16Line()
    {
        var flags = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? []
            : [];
        string Has(string flag) => flags.Contains(flag) ? "yes" : "no";
        return $"CPU bf16 support: amx_bf16 {Has("amx_bf16")}, avx512_bf16 {Has("avx512_bf16")}, avx512f {Has("avx512f")}";
    }
}
