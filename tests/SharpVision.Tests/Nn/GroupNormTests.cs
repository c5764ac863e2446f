using CsCheck;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Nn;

public sealed class GroupNormTests
{
    [Fact]
    public void State_dict_keys_equal_torch()
    {
        Assert.Equal(["weight", "bias"], new GroupNorm(2, 4).state_dict().Keys);
        Assert.Empty(new GroupNorm(2, 4, affine: false).state_dict());
    }

    [Fact]
    public void Matches_the_definition_on_random_inputs()
    {
        // Oracle: reshape to (N, G, C/G * HW), subtract the mean, divide by sqrt(biased var + eps), per-channel affine.
        var gen = Gen.Select(Gen.Int[1, 3], Gen.Int[1, 4], Gen.Int[1, 3], Gen.Int[1, 5], Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (n, groups, perGroup, size, seed) = t;
            var g = new Generator(seed);
            int c = groups * perGroup;
            var layer = new GroupNorm(groups, c, dtype: ScalarType.Float64);
            using (no_grad())
            {
                layer.weight!.copy_(randn([c], dtype: ScalarType.Float64, generator: g));
                layer.bias!.copy_(randn([c], dtype: ScalarType.Float64, generator: g));
            }
            var x = randn([n, c, size, size + 1], dtype: ScalarType.Float64, generator: g) * 3 + 1;
            var grouped = x.view(n, groups, -1);                                   // (N, G, C/G * H * W)
            var (variance, mean) = var_mean(grouped, [-1], unbiased: false, keepdim: true);
            var expected = ((grouped - mean) / (variance + 1e-5).sqrt()).view(x.shape) * layer.weight!.view(1, c, 1, 1) + layer.bias!.view(1, c, 1, 1);
            Assert.True(layer.forward(x).allclose(expected, 1e-10, 1e-10));
        }, seed: 11, iterations: 40);
    }

    [Fact]
    public void Groups_not_dividing_channels_names_both_numbers()
    {
        var e = Assert.Throws<ArgumentException>(() => new GroupNorm(3, 8));
        Assert.Contains("3", e.Message);
        Assert.Contains("8", e.Message);
    }

    [Fact]
    public void Wrong_channels_names_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new GroupNorm(2, 4).forward(zeros(2, 6, 3, 3)));
        Assert.Contains("(N, 4, *)", e.Message);
        Assert.Contains("(2, 6, 3, 3)", e.Message);
    }
}
