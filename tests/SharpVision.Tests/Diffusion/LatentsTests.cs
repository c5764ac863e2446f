using SharpVision.Diffusion.Pipelines;

namespace SharpVision.Tests.Diffusion;

public sealed class LatentsTests
{
    [Fact]
    public void OneGeneratorPerItemDrawsEachItemAsItsOwnSeedWould()
    {
        var generators = new[] { new Generator(3), new Generator(4) };
        using var batch = Latents.Randn([2, 4, 8, 8], generators);
        Assert.Equal(new long[] { 2, 4, 8, 8 }, batch.shape);
        for (int b = 0; b < 2; b++)
        {
            using var single = Latents.Randn([1, 4, 8, 8], new Generator((ulong)(3 + b)));
            Assert.True(batch[b].unsqueeze(0).eq(single).all().item<bool>(), $"item {b} differs from its seed's single draw");
        }
        using var together = Latents.Randn([2, 4, 8, 8], new Generator(3));
        Assert.False(together[1].eq(batch[1]).all().item<bool>()); // one generator for the batch continues seed 3's stream
        using var listOfOne = Latents.Randn([1, 4, 8, 8], [new Generator(3)]);
        Assert.True(listOfOne.eq(Latents.Randn([1, 4, 8, 8], new Generator(3))).all().item<bool>());
        foreach (var g in generators) g.Dispose();
    }

    [Fact]
    public void LowPrecisionDrawsAreDrawnInTheirDtypeNotRoundedFromFloat32()
    {
        // As torch.randn(shape, dtype=torch.bfloat16) (what diffusers' randn_tensor calls) does on the CPU.
        using var bf16 = Latents.Randn([1, 4, 8, 8], new Generator(0), ScalarType.BFloat16);
        using var rounded = Latents.Randn([1, 4, 8, 8], new Generator(0)).to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, bf16.dtype);
        Assert.True(bf16.ne(rounded).sum().item<long>() > 0);
    }

    [Fact]
    public void BadShapesAndGeneratorCountsNameTheProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => Latents.Randn([3, 4, 8, 8], [new Generator(0), new Generator(1)]));
        Assert.Contains("(3, 4, 8, 8)", e.Message);
        Assert.Contains("2 generators", e.Message);
        var s = Assert.Throws<ArgumentException>(() => Latents.Randn([1, -4], new Generator(0)));
        Assert.Contains("(1, -4)", s.Message);
    }
}
