using CsCheck;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Nn;

public sealed class BatchNormTests
{
    [Fact]
    public void State_dict_keys_equal_torch()
    {
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], new BatchNorm2d(4).state_dict().Keys);
        Assert.Equal(["running_mean", "running_var", "num_batches_tracked"], new BatchNorm1d(4, affine: false).state_dict().Keys);
        Assert.Equal(["weight", "bias"], new BatchNorm2d(4, trackRunningStats: false).state_dict().Keys);
        Assert.Equal(ScalarType.Int64, new BatchNorm2d(4).num_batches_tracked!.dtype);
    }

    [Fact]
    public void Cumulative_average_is_the_mean_of_the_batch_statistics()
    {
        // momentum null: after k batches running_mean is the plain mean of the k batch means, and running_var
        // that of the k unbiased batch variances (started from the initial 0 / 1 as batch zero is not counted).
        var gen = Gen.Select(Gen.Int[1, 5], Gen.Int[2, 6], Gen.Int[1, 4], Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (batches, n, c, seed) = t;
            var g = new Generator(seed);
            var layer = new BatchNorm2d(c, momentum: null, dtype: ScalarType.Float64);
            var means = new List<Tensor>();
            var variances = new List<Tensor>();
            for (int i = 0; i < batches; i++)
            {
                var x = randn([n, c, 3, 2], dtype: ScalarType.Float64, generator: g) * (i + 1) + i;
                layer.forward(x);
                var (variance, mean) = var_mean(x, [0, 2, 3], unbiased: true);
                means.Add(mean);
                variances.Add(variance);
            }
            Assert.Equal(batches, layer.num_batches_tracked!.item<long>());
            Assert.True(layer.running_mean!.allclose(stack(means).mean([0]), 1e-12, 1e-12), "running_mean");
            Assert.True(layer.running_var!.allclose(stack(variances).mean([0]), 1e-12, 1e-12), "running_var");
        }, seed: 7, iterations: 40);
    }

    [Fact]
    public void Eval_normalizes_with_the_running_statistics()
    {
        var layer = new BatchNorm2d(2, dtype: ScalarType.Float64);
        using (no_grad())
        {
            layer.running_mean!.copy_(tensor(new[] { 1.0, -2.0 }));
            layer.running_var!.copy_(tensor(new[] { 4.0, 0.25 }));
        }
        layer.eval();
        var x = randn([3, 2, 2, 2], dtype: ScalarType.Float64, generator: new Generator(3));
        var expected = (x - tensor(new[] { 1.0, -2.0 }).view(1, 2, 1, 1)) / (tensor(new[] { 4.0, 0.25 }).view(1, 2, 1, 1) + 1e-5).sqrt();
        Assert.True(layer.forward(x).allclose(expected, 1e-12, 1e-12));
        Assert.Equal(0, layer.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void Converting_the_module_dtype_moves_its_buffers()
    {
        var layer = new BatchNorm2d(3);
        layer.to(ScalarType.Float64);
        var output = layer.forward(randn([4, 3, 2, 2], dtype: ScalarType.Float64, generator: new Generator(4)));
        Assert.Equal(ScalarType.Float64, output.dtype);
        Assert.Equal(ScalarType.Float64, layer.running_mean!.dtype);
        Assert.Equal(ScalarType.Float64, layer.state_dict()["running_var"].dtype);
        Assert.Equal(ScalarType.Int64, layer.num_batches_tracked!.dtype);
        Assert.Equal(1, layer.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void Wrong_rank_or_channels_names_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchNorm2d(4).forward(zeros(2, 3, 5, 5)));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("(N, 4, H, W)", e.Message);
        Assert.Contains("(2, 3, 5, 5)", e.Message);
        var e1 = Assert.Throws<ArgumentException>(() => new BatchNorm1d(4).forward(zeros(2, 4, 5, 5)));
        Assert.Contains("(N, 4) or (N, 4, L)", e1.Message);
        Assert.Contains("(2, 4, 5, 5)", e1.Message);
    }

    [Fact]
    public void One_value_per_channel_in_training_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchNorm1d(3).forward(zeros(1, 3)));
        Assert.Contains("(1, 3)", e.Message);
    }

    [Fact]
    public void Bad_momentum_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm2d(3, momentum: 1.5));
    }
}
