using CsCheck;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Nn;

public sealed class SwitchNormTests
{
    [Fact]
    public void State_dict_keys_and_shapes_equal_the_reference()
    {
        var state = new SwitchNorm2d(6).state_dict();
        Assert.Equal(["weight", "bias", "mean_weight", "var_weight", "running_mean", "running_var"], state.Keys);
        Assert.Equal([1L, 6, 1, 1], state["weight"].shape);
        Assert.Equal([3L], state["mean_weight"].shape);
        Assert.Equal([1L, 6, 1], state["running_var"].shape);

        var noBn = new SwitchNorm2d(6, usingBn: false).state_dict();
        Assert.Equal(["weight", "bias", "mean_weight", "var_weight"], noBn.Keys);
        Assert.Equal([2L], noBn["var_weight"].shape);

        var oneD = new SwitchNorm1d(6).state_dict();
        Assert.Equal(["weight", "bias", "mean_weight", "var_weight", "running_mean", "running_var"], oneD.Keys);
        Assert.Equal([1L, 6], oneD["running_mean"].shape);
    }

    [Fact]
    public void Last_gamma_starts_the_scale_at_zero()
    {
        Assert.Equal(0.0, new SwitchNorm2d(4, lastGamma: true).weight.abs().sum().item<float>());
        Assert.Equal(4.0, new SwitchNorm2d(4).weight.sum().item<float>());
    }

    [Fact]
    public void Loads_a_reference_state_dict_saved_as_pth()
    {
        var source = new SwitchNorm2d(3, dtype: ScalarType.Float32);
        using (no_grad())
        {
            source.mean_weight.copy_(tensor(new[] { 0.5f, -1f, 2f }));
            source.running_var!.fill_(0.75f);
        }
        var file = Path.Combine(Path.GetTempPath(), $"sn-{Guid.NewGuid():N}.pth");
        try
        {
            StateDict.SavePyTorch(source.state_dict(), file);
            var target = new SwitchNorm2d(3);
            StateDict.LoadInto(target, StateDict.Load(file));
            Assert.True(target.mean_weight.equal(source.mean_weight).all().item<bool>());
            Assert.True(target.running_var!.equal(source.running_var!).all().item<bool>());
        }
        finally { File.Delete(file); }
    }

    /// <summary>
    /// A direct transcription of the reference forward (switchable_norm.py SwitchNorm2d) in float64: statistics
    /// from the separate means and variances, then (x − mean) / sqrt(var + eps) · weight + bias.
    /// </summary>
    static Tensor ReferenceForward(Tensor x, Tensor meanWeight, Tensor varWeight, Tensor weight, Tensor bias, double eps)
    {
        long n = x.shape[0], c = x.shape[1];
        var flat = x.view(n, c, -1);                                           // (N, C, HW)
        var meanIn = flat.mean([-1], keepdim: true);
        var varIn = flat.var(-1, unbiased: true, keepdim: true);
        var meanLn = meanIn.mean([1], keepdim: true);
        var varLn = (varIn + meanIn.pow(2)).mean([1], keepdim: true) - meanLn.pow(2);
        var meanBn = meanIn.mean([0], keepdim: true);
        var varBn = (varIn + meanIn.pow(2)).mean([0], keepdim: true) - meanBn.pow(2);
        var mw = meanWeight.softmax(0);
        var vw = varWeight.softmax(0);
        var mean = mw[0] * meanIn + mw[1] * meanLn + mw[2] * meanBn;
        var variance = vw[0] * varIn + vw[1] * varLn + vw[2] * varBn;
        return ((flat - mean) / (variance + eps).sqrt()).view(x.shape) * weight + bias;
    }

    /// <summary>A float64 SwitchNorm2d with importance weights, gain and (optionally) shift drawn from <paramref name="g"/>, in that order.</summary>
    static SwitchNorm2d RandomLayer(int c, Generator g, bool randomBias)
    {
        var layer = new SwitchNorm2d(c, dtype: ScalarType.Float64);
        using (no_grad())
        {
            layer.mean_weight.copy_(randn([3], dtype: ScalarType.Float64, generator: g));
            layer.var_weight.copy_(randn([3], dtype: ScalarType.Float64, generator: g));
            layer.weight.copy_(randn([1, c, 1, 1], dtype: ScalarType.Float64, generator: g));
            if (randomBias) layer.bias.copy_(randn([1, c, 1, 1], dtype: ScalarType.Float64, generator: g));
        }
        return layer;
    }

    [Fact]
    public void Folded_scale_and_shift_equal_the_reference_formula()
    {
        var gen = Gen.Select(Gen.Int[1, 4], Gen.Int[1, 6], Gen.Int[2, 6], Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (n, c, size, seed) = t;
            var g = new Generator(seed);
            var layer = RandomLayer(c, g, randomBias: true);
            var x = randn([n + 1, c, size, size], dtype: ScalarType.Float64, generator: g) * 3 + 1;
            var expected = ReferenceForward(x, layer.mean_weight, layer.var_weight, layer.weight, layer.bias, layer.eps);
            Assert.True(layer.forward(x).allclose(expected, 1e-10, 1e-10));
        }, seed: 13, iterations: 40);
    }

    [Fact]
    public void Gradients_equal_autograd_through_the_reference_formula()
    {
        // The layer's hand-written backward (InstanceMoments, ScaleShift) against autograd through the plain formula,
        // for the input and every parameter, on a non-contiguous input.
        var gen = Gen.Select(Gen.Int[1, 3], Gen.Int[1, 5], Gen.Int[2, 5], Gen.ULong);
        SeededSample.Run(gen, t =>
        {
            var (n, c, size, seed) = t;
            var g = new Generator(seed);
            var layer = RandomLayer(c, g, randomBias: false);
            var x = (randn([n + 1, c, size + 1, size], dtype: ScalarType.Float64, generator: g) * 2 - 1).transpose(2, 3).requires_grad_(true);
            var gradOutput = randn(x.shape, dtype: ScalarType.Float64, generator: g);
            Tensor[] inputs = [x, layer.weight, layer.bias, layer.mean_weight, layer.var_weight];

            var actual = torch.autograd.grad([layer.forward(x)], inputs, [gradOutput]);
            var expected = torch.autograd.grad(
                [ReferenceForward(x.contiguous(), layer.mean_weight, layer.var_weight, layer.weight, layer.bias, layer.eps)], inputs, [gradOutput]);
            string[] names = ["input", "weight", "bias", "mean_weight", "var_weight"];
            for (int i = 0; i < inputs.Length; i++)
                Assert.True(actual[i].allclose(expected[i], 1e-9, 1e-10), $"gradient of {names[i]}");
        }, seed: 17, iterations: 25);
    }

    [Fact]
    public void Converting_the_module_dtype_moves_its_buffers()
    {
        var layer = new SwitchNorm2d(3);
        layer.to(ScalarType.Float64);
        var output = layer.forward(randn([4, 3, 2, 2], dtype: ScalarType.Float64, generator: new Generator(4)));
        Assert.Equal(ScalarType.Float64, output.dtype);
        Assert.Equal(ScalarType.Float64, layer.running_mean!.dtype);
        Assert.NotEqual(0.0, layer.running_var!.abs().sum().item<double>());
    }

    [Fact]
    public void Wrong_rank_or_channels_names_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new SwitchNorm2d(4).forward(zeros(2, 3, 5, 5)));
        Assert.Contains("(N, 4, H, W)", e.Message);
        Assert.Contains("(2, 3, 5, 5)", e.Message);
        var e1 = Assert.Throws<ArgumentException>(() => new SwitchNorm1d(4).forward(zeros(2, 4, 1)));
        Assert.Contains("(N, 4)", e1.Message);
        Assert.Contains("(2, 4, 1)", e1.Message);
    }

    [Fact]
    public void A_single_position_per_channel_is_rejected()
    {
        // The unbiased variance over one position divides by zero.
        var e = Assert.Throws<ArgumentException>(() => new SwitchNorm2d(2).forward(zeros(3, 2, 1, 1)));
        Assert.Contains("(3, 2, 1, 1)", e.Message);
    }
}
