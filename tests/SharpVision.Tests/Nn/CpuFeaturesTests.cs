using SharpVision.Nn.Hardware;

namespace SharpVision.Tests.Nn;

public sealed class CpuFeaturesTests
{
    [Fact]
    public void This_machines_cpuinfo_is_read_flag_for_flag()
    {
        var detected = CpuFeatures.Detect();
        if (!File.Exists("/proc/cpuinfo"))
        {
            Assert.Equal("System.Runtime.Intrinsics", detected.Source);
            return;
        }
        Assert.Equal("/proc/cpuinfo", detected.Source);
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        Assert.Equal(flags.Contains("avx512_bf16"), detected.Avx512Bf16);
        Assert.Equal(flags.Contains("avx512f"), detected.Avx512F);
        Assert.Equal(flags.Contains("amx_bf16") && flags.Contains("amx_tile"), detected.AmxBf16);
        Assert.Contains(detected.Bf16Path == Bf16Path.Emulated ? "slower than fp32" : "bf16 path:", detected.Describe());
    }

    [Theory]
    [InlineData("fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8", Bf16Path.Amx)]
    [InlineData("fpu avx2 avx512f avx512bw avx512_bf16 avx512_vnni", Bf16Path.Avx512Bf16)]
    [InlineData("fpu avx2 avx512f avx512bw", Bf16Path.Emulated)]
    [InlineData("fpu sse2 avx2 fma", Bf16Path.Emulated)]
    [InlineData("avx512f amx_bf16", Bf16Path.Emulated)]        // bf16 tiles need the tile registers too
    [InlineData("avx512bf16 amx-bf16", Bf16Path.Emulated)]     // only the kernel's exact names count
    [InlineData("", Bf16Path.Emulated)]
    public void Flags_choose_the_bf16_path(string flags, Bf16Path expected)
    {
        var features = CpuFeatures.FromFlags(flags);
        Assert.Equal(expected, features.Bf16Path);
        Assert.Equal(expected == Bf16Path.Emulated, features.Bf16Warning() is not null);
    }

    [Fact]
    public void The_first_flags_line_of_a_cpuinfo_text_is_read()
    {
        const string text = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\nbugs\t\t: spectre_v1\n\n" +
                            "processor\t: 1\nflags\t\t: fpu\n";
        var features = CpuFeatures.FromCpuInfo(text);
        Assert.Equal(new CpuFeatures(true, true, true, "/proc/cpuinfo"), features);
        Assert.Contains("AMX tiles", features.Describe());
        Assert.Null(features.Bf16Warning());
        var none = CpuFeatures.FromCpuInfo("processor\t: 0\nmodel name\t: ARMv8\n");
        Assert.Equal(Bf16Path.Emulated, none.Bf16Path);
        Assert.Contains("bf16 will be slower than fp32", none.Bf16Warning());
    }
}
