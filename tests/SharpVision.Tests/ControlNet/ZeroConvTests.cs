using SharpVision.Diffusion.ControlNet;

namespace SharpVision.Tests.ControlNet;

public sealed class ZeroConvTests
{
    [Fact]
    public void StartsAtZeroAndOutputsZeros()
    {
        torch.manual_seed(3);
        using var conv = new ZeroConv(4, 6);
        Assert.Equal([6L, 4, 1, 1], conv.weight.shape);
        Assert.True(ControlNetTestModels.AllZero(conv.weight));
        Assert.True(ControlNetTestModels.AllZero(conv.bias));
        using var y = conv.call(randn(2, 4, 5, 5));
        Assert.Equal([2L, 6, 5, 5], y.shape);
        Assert.True(ControlNetTestModels.AllZero(y));
    }

    [Fact]
    public void WeightGradientIsInputTimesUpstreamGradientSoOneStepMovesIt()
    {
        torch.manual_seed(4);
        using var conv = new ZeroConv(3, 2);
        var x = randn(2, 3, 4, 4);
        var upstream = randn(2, 2, 4, 4);
        var y = conv.call(x);
        (y * upstream).sum().backward();
        // dL/dW[o, i] = Σ_{b,h,w} upstream[b, o, h, w] · x[b, i, h, w]; dL/db[o] = Σ upstream[b, o]
        var expectedW = einsum("bohw,bihw->oi", upstream, x).reshape(2, 3, 1, 1);
        Assert.True(conv.weight.grad!.allclose(expectedW, 1e-5, 1e-5));
        Assert.True(conv.bias.grad!.allclose(upstream.sum([0, 2, 3]), 1e-5, 1e-5));
        Assert.False(ControlNetTestModels.AllZero(conv.weight.grad!));
        // while the input's gradient (Wᵀ · upstream) is exactly zero: nothing flows further back on the first step
        var x2 = randn(2, 3, 4, 4).requires_grad_(true);
        (conv.call(x2) * upstream).sum().backward();
        Assert.True(ControlNetTestModels.AllZero(x2.grad!));
    }

    [Fact]
    public void Kernel3KeepsTheSizeAndState_dictHasConvKeys()
    {
        using var conv = new ZeroConv(2, 5, kernelSize: 3);
        using var y = conv.call(ones(1, 2, 7, 9));
        Assert.Equal([1L, 5, 7, 9], y.shape);
        Assert.Equal(["weight", "bias"], conv.state_dict().Keys.Order(StringComparer.Ordinal).Reverse());
    }

    [Fact]
    public void WrongChannelCountNamesBoth()
    {
        using var conv = new ZeroConv(4);
        var e = Assert.Throws<ArgumentException>(() => conv.call(zeros(1, 3, 2, 2)));
        Assert.Contains("(B, 4, H, W)", e.Message);
        Assert.Contains("(1, 3, 2, 2)", e.Message);
    }

    [Fact]
    public void ZeroInitZeroesEveryParameter()
    {
        torch.manual_seed(5);
        using var conv = ZeroConv.ZeroInit(nn.Conv2d(3, 3, 3));
        Assert.All(conv.parameters(), p => Assert.True(ControlNetTestModels.AllZero(p)));
    }
}
