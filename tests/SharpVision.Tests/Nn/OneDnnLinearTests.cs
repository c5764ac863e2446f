using SharpVision.Nn.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Nn;

public sealed class OneDnnLinearTests
{
    [Fact]
    public void Keys_and_initialisation_are_torch_nn_Linear_s()
    {
        torch.manual_seed(11);
        using var reference = nn.Linear(12, 5);
        torch.manual_seed(11);
        using var linear = new OneDnnLinear(12, 5);
        Assert.Equal(["weight", "bias"], linear.state_dict().Keys);
        Assert.True(linear.weight.allclose(reference.weight!, rtol: 0, atol: 0));
        Assert.True(linear.bias!.allclose(reference.bias!, rtol: 0, atol: 0));
        using var noBias = new OneDnnLinear(12, 5, hasBias: false);
        Assert.Equal(["weight"], noBias.state_dict().Keys);
    }

    [Theory]
    [InlineData(new long[] { 3, 7 }, ScalarType.Float32)]        // below the oneDNN threshold: addmm
    [InlineData(new long[] { 2, 300 }, ScalarType.Float32)]      // above it: the 1×1 convolution
    [InlineData(new long[] { 2, 16, 16 }, ScalarType.Float32)]
    [InlineData(new long[] { 600 }, ScalarType.BFloat16)]
    [InlineData(new long[] { 2, 300 }, ScalarType.Float64)]      // a dtype oneDNN does not take: addmm
    public void Equals_the_matmul_for_any_leading_shape_and_dtype(long[] leading, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        var linear = new OneDnnLinear(48, 40);
        linear.to(dtype);
        var x = randn([.. leading, 48], generator: new Generator(6)).to(dtype);
        var y = linear.call(x);
        var expected = x.to(ScalarType.Float64).matmul(linear.weight.to(ScalarType.Float64).t()) + linear.bias!.to(ScalarType.Float64);
        Assert.Equal([.. leading, 40], y.shape);
        Assert.Equal(dtype, y.dtype);
        double tolerance = dtype == ScalarType.BFloat16 ? 0.1 : 1e-5;
        Assert.True(y.to(ScalarType.Float64).allclose(expected, rtol: tolerance, atol: tolerance), $"max error {(y.to(ScalarType.Float64) - expected).abs().max().item<double>()}");
        // A non-contiguous input (a transposed view) gives the same rows.
        var transposed = x.transpose(0, -2).contiguous().transpose(0, -2);
        Assert.True(linear.call(transposed).allclose(y, rtol: 0, atol: 0));
    }

    [Fact]
    public void Gradients_equal_the_matmul_s_through_the_convolution()
    {
        torch.manual_seed(2);
        using var linear = new OneDnnLinear(32, 24);
        var x = randn([4, 100, 32], generator: new Generator(8), requires_grad: true); // 400 rows: the convolution
        linear.call(x).square().sum().backward();
        var (gx, gw, gb) = (x.grad!.clone(), linear.weight.grad!.clone(), linear.bias!.grad!.clone());
        var x2 = x.detach().clone().requires_grad_();
        var w2 = linear.weight.detach().clone().requires_grad_();
        var b2 = linear.bias.detach().clone().requires_grad_();
        nn.functional.linear(x2, w2, b2).square().sum().backward();
        Assert.True(gx.allclose(x2.grad!, 1e-4, 1e-4));
        Assert.True(gw.allclose(w2.grad!, 1e-4, 1e-3));
        Assert.True(gb.allclose(b2.grad!, 1e-4, 1e-3));
    }

    [Fact]
    public void Rejects_input_of_another_width()
    {
        using var linear = new OneDnnLinear(8, 4);
        var e = Assert.Throws<ArgumentException>(() => linear.call(zeros(3, 7)));
        Assert.Contains("must end in 8 features; got (3, 7)", e.Message);
    }
}
