using CsCheck;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Nn;

public sealed class InstanceNorm2dTests
{
    [Fact]
    public void State_dict_keys_equal_torch()
    {
        Assert.Empty(new InstanceNorm2d(3).state_dict());
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"],
            new InstanceNorm2d(3, affine: true, trackRunningStats: true).state_dict().Keys);
    }

    [Fact]
    public void InstanceNorm_equals_GroupNorm_with_one_channel_per_group()
    {
        var gen = Gen.Select(Gen.Int[1, 4], Gen.Int[1, 6], Gen.Int[2, 6], Gen.Bool, Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (n, c, size, track, seed) = t;
            var g = new Generator(seed);
            var instanceNorm = new InstanceNorm2d(c, affine: true, trackRunningStats: track, dtype: ScalarType.Float64);
            var groupNorm = GroupNorm.AsInstanceNorm(c, dtype: ScalarType.Float64);
            using (no_grad())
            {
                groupNorm.weight!.copy_(randn([c], dtype: ScalarType.Float64, generator: g));
                groupNorm.bias!.copy_(randn([c], dtype: ScalarType.Float64, generator: g));
                instanceNorm.weight!.copy_(groupNorm.weight!);
                instanceNorm.bias!.copy_(groupNorm.bias!);
            }
            var x = randn([n, c, size, size + 1], dtype: ScalarType.Float64, generator: g) * 2 + 3;
            Assert.True(instanceNorm.forward(x).allclose(groupNorm.forward(x), 1e-10, 1e-10));
        }, seed: 5, iterations: 40);
    }

    [Fact]
    public void Unbatched_input_equals_a_batch_of_one()
    {
        var layer = new InstanceNorm2d(3);
        var x = randn([3, 4, 4], generator: new Generator(2));
        Assert.True(layer.forward(x).allclose(layer.forward(x.unsqueeze(0)).squeeze(0)));
    }

    [Fact]
    public void Wrong_channels_name_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new InstanceNorm2d(3).forward(zeros(2, 4, 5, 5)));
        Assert.Contains("(N, 3, H, W)", e.Message);
        Assert.Contains("(2, 4, 5, 5)", e.Message);
    }
}
