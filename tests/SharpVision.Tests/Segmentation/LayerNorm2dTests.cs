using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class LayerNorm2dTests
{
    [Fact]
    public void Equals_layer_norm_over_channels()
    {
        var norm = new LayerNorm2d(5);
        norm.to(ScalarType.Float64);
        var g = new Generator(4);
        using (no_grad())
        {
            norm.weight.copy_(randn([5], dtype: ScalarType.Float64, generator: g));
            norm.bias.copy_(randn([5], dtype: ScalarType.Float64, generator: g));
        }
        var x = randn([2, 5, 3, 4], dtype: ScalarType.Float64, generator: g) * 2 + 1;
        // (B, C, H, W) -> (B, H, W, C), normalise the last dim, back
        var expected = nn.functional.layer_norm(x.permute(0, 2, 3, 1), [5], norm.weight, norm.bias, 1e-6).permute(0, 3, 1, 2);
        Assert.True(norm.forward(x).allclose(expected, 1e-10, 1e-10));
        Assert.Equal(["weight", "bias"], norm.state_dict().Keys);
    }

    [Fact]
    public void Wrong_channel_count_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new LayerNorm2d(4).forward(zeros(1, 3, 2, 2)));
        Assert.Contains("x must be (B, 4, H, W); got (1, 3, 2, 2)", e.Message);
    }
}
