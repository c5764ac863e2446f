using SharpVision.Nn.Activations;
using static TorchSharp.torch;

namespace SharpVision.Tests.Nn;

public sealed class GeluTests
{
    [Fact]
    public void Channels_last_maps_keep_their_layout_and_get_torch_s_values()
    {
        using var scope = NewDisposeScope();
        var nchw = randn([2, 5, 4, 3], generator: new Generator(1)) * 3;
        var channelsLast = nchw.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        using var gelu = new Gelu();
        var y = gelu.call(channelsLast);
        Assert.True(y.allclose(nn.functional.gelu(nchw), rtol: 0, atol: 0));
        Assert.Equal(channelsLast.stride(), y.stride()); // still channels-last
        Assert.True(gelu.call(nchw).allclose(nn.functional.gelu(nchw), rtol: 0, atol: 0));
        var tokens = randn(3, 7, generator: new Generator(2));
        Assert.True(gelu.call(tokens.t()).allclose(nn.functional.gelu(tokens.t()), rtol: 0, atol: 0)); // other strided input: torch's own path
    }
}
