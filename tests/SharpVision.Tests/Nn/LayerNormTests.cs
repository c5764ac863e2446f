using CsCheck;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Nn;

public sealed class LayerNormTests
{
    [Fact]
    public void State_dict_keys_and_shapes_equal_torch()
    {
        var state = new LayerNorm([4, 5, 6]).state_dict();
        Assert.Equal(["weight", "bias"], state.Keys);
        Assert.Equal([4L, 5, 6], state["weight"].shape);
        Assert.Empty(new LayerNorm(8, elementwiseAffine: false).state_dict());
    }

    [Fact]
    public void LayerNorm_over_CHW_equals_GroupNorm_with_one_group()
    {
        // Same statistics; the affine differs in shape (elementwise vs per channel), so compare with per-channel
        // parameters expanded to (C, H, W).
        var gen = Gen.Select(Gen.Int[1, 4], Gen.Int[1, 6], Gen.Int[1, 5], Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (n, c, size, seed) = t;
            var g = new Generator(seed);
            var groupNorm = GroupNorm.AsLayerNorm(c, dtype: ScalarType.Float64);
            var layerNorm = new LayerNorm([c, size, size + 2], dtype: ScalarType.Float64);
            using (no_grad())
            {
                groupNorm.weight!.copy_(randn([c], dtype: ScalarType.Float64, generator: g));
                groupNorm.bias!.copy_(randn([c], dtype: ScalarType.Float64, generator: g));
                layerNorm.weight!.copy_(groupNorm.weight!.view(c, 1, 1).expand(layerNorm.weight!.shape));
                layerNorm.bias!.copy_(groupNorm.bias!.view(c, 1, 1).expand(layerNorm.bias!.shape));
            }
            var x = randn([n, c, size, size + 2], dtype: ScalarType.Float64, generator: g) * 5 - 2;
            Assert.True(layerNorm.forward(x).allclose(groupNorm.forward(x), 1e-10, 1e-10));
        }, seed: 3, iterations: 40);
    }

    [Fact]
    public void Wrong_trailing_dims_name_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new LayerNorm([4, 5]).forward(zeros(2, 5, 4)));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("(*, 4, 5)", e.Message);
        Assert.Contains("(2, 5, 4)", e.Message);
    }

    [Fact]
    public void Empty_or_non_positive_normalized_shape_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new LayerNorm(Array.Empty<long>()));
        var e = Assert.Throws<ArgumentException>(() => new LayerNorm([3, 0]));
        Assert.Contains("(3, 0)", e.Message);
    }
}
