using CsCheck;
using SharpVision.Nn.Losses;

namespace SharpVision.Tests.Nn;

public sealed class CrossEntropyLossTests
{
    [Fact]
    public void Large_magnitude_logits_give_finite_loss_and_gradients()
    {
        // Magnitudes 1e4 .. 1e30: exp() overflows float32 far below that, so only log-sum-exp keeps these finite.
        var gen = Gen.Select(Gen.Int[1, 16], Gen.Int[2, 10], Gen.Int[4, 30], Gen.Bool, Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (n, c, exponent, smooth, seed) = t;
            var g = new Generator(seed);
            var input = (randn([n, c], generator: g) * Math.Pow(10, exponent)).requires_grad_(true);
            var target = randint(0, c, [n], generator: g);
            var loss = CrossEntropyLoss.cross_entropy(input, target, labelSmoothing: smooth ? 0.1 : 0.0);
            loss.backward();
            Assert.True(loss.isfinite().item<bool>(), $"loss {loss.item<float>()}");
            Assert.True(loss.item<float>() >= 0);
            Assert.True(input.grad!.isfinite().all().item<bool>(), "gradient not finite");
        }, seed: 0x5EED_C0DE, iterations: 40);
    }

    [Fact]
    public void Index_targets_equal_one_hot_probability_targets_without_weights()
    {
        // Without weights or ignored entries the two target forms are the same distribution, so the same loss.
        var gen = Gen.Select(Gen.Int[1, 8], Gen.Int[2, 7], Gen.Double[0, 0.5], Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (n, c, smoothing, seed) = t;
            var g = new Generator(seed);
            var input = randn([n, c], dtype: ScalarType.Float64, generator: g);
            var target = randint(0, c, [n], generator: g);
            var oneHot = nn.functional.one_hot(target, c).to(ScalarType.Float64);
            var byIndex = CrossEntropyLoss.cross_entropy(input, target, labelSmoothing: smoothing);
            var byProbability = CrossEntropyLoss.cross_entropy(input, oneHot, labelSmoothing: smoothing);
            Assert.Equal(byProbability.item<double>(), byIndex.item<double>(), 1e-12);
        }, seed: 42, iterations: 40);
    }

    [Fact]
    public void Unbatched_input_equals_a_batch_of_one()
    {
        var input = tensor(new[] { 1.0f, -2.0f, 0.5f });
        var loss = CrossEntropyLoss.cross_entropy(input, tensor(2L));
        var batched = CrossEntropyLoss.cross_entropy(input.unsqueeze(0), tensor(new[] { 2L }));
        Assert.Empty(loss.shape);
        Assert.Equal(batched.item<float>(), loss.item<float>(), 6);
    }

    [Fact]
    public void All_targets_ignored_gives_nan_mean_and_zero_sum()
    {
        var input = zeros(3, 4);
        var target = full(3, -100L);
        Assert.True(float.IsNaN(CrossEntropyLoss.cross_entropy(input, target).item<float>()));
        Assert.Equal(0f, CrossEntropyLoss.cross_entropy(input, target, reduction: Reduction.Sum).item<float>());
    }

    [Fact]
    public void Module_keeps_weight_as_its_only_state()
    {
        Assert.Equal(["weight"], new CrossEntropyLoss(ones(3)).state_dict().Keys);
        Assert.Empty(new CrossEntropyLoss().state_dict());
    }

    [Fact]
    public void Target_of_the_wrong_shape_names_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropyLoss.cross_entropy(zeros(4, 5), zeros(3, dtype: ScalarType.Int64)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("(4)", e.Message);
        Assert.Contains("(4, 5)", e.Message);
        Assert.Contains("(3)", e.Message);
    }

    [Fact]
    public void Weight_of_the_wrong_length_names_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropyLoss.cross_entropy(zeros(4, 5), zeros(4, dtype: ScalarType.Int64), weight: ones(3)));
        Assert.Equal("weight", e.ParamName);
        Assert.Contains("(5)", e.Message);
        Assert.Contains("(3)", e.Message);
    }

    [Fact]
    public void Class_index_out_of_range_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropyLoss.cross_entropy(zeros(2, 3), tensor(new[] { 0L, 7L })));
        Assert.Contains("[0, 3)", e.Message);
        Assert.Contains("7", e.Message);
    }

    [Fact]
    public void Ignore_index_with_probability_targets_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropyLoss.cross_entropy(zeros(2, 3), full(2, 3, 1f / 3), ignoreIndex: 1));
        Assert.Contains("ignore_index", e.Message);
    }

    [Fact]
    public void Bad_options_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CrossEntropyLoss(labelSmoothing: 1.5));
        var e = Assert.Throws<ArgumentException>(() => Reductions.Parse("average"));
        Assert.Contains("none, mean, sum", e.Message);
        Assert.Equal(Reduction.Sum, Reductions.Parse(Reduction.Sum.ToName()));
    }
}
