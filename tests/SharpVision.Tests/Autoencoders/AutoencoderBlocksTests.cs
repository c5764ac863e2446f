using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Models.Blocks;

namespace SharpVision.Tests.Autoencoders;

public sealed class AutoencoderBlocksTests
{
    static readonly ResnetSettings NoTemb = new(TembChannels: null, Groups: 4);

    [Fact]
    public void DownEncoderBlockHalvesWithAsymmetricPaddingAndUpDecoderBlockDoubles()
    {
        using var down = new DownEncoderBlock2D(4, 8, NoTemb, numLayers: 2, downsamplePadding: 0);
        using var up = new UpDecoderBlock2D(8, 4, NoTemb, numLayers: 3);
        using var noGrad = torch.no_grad();
        var x = randn(2, 4, 8, 8, generator: new Generator(1));
        var h = down.forward(x);
        Assert.Equal([2L, 8, 4, 4], h.shape); // pad to 9×9 (zero row and column at the bottom/right), 3×3 stride 2, no padding
        Assert.Equal([2L, 4, 8, 8], up.forward(h).shape);
        Assert.Equal(2, down.resnets.Count);
        Assert.Equal(3, up.resnets.Count);
        Assert.Contains("downsamplers.0.conv.weight", down.state_dict().Keys);
        Assert.Contains("upsamplers.0.conv.weight", up.state_dict().Keys);
        using var last = new DownEncoderBlock2D(4, 8, NoTemb, addDownsample: false);
        Assert.Empty(last.downsamplers);
    }

    [Fact]
    public void BlocksWithATimeEmbeddingAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new DownEncoderBlock2D(4, 8, NoTemb with { TembChannels = 16 }));
        Assert.Contains("TembChannels must be null", e.Message);
        Assert.Throws<ArgumentException>(() => new UpDecoderBlock2D(4, 8, NoTemb with { TembChannels = 16 }));
    }

    [Fact]
    public void EncoderAndDecoderCheckListLengthsAndChannels()
    {
        var e = Assert.Throws<ArgumentException>(() => new Encoder(1, 4, [EncoderBlockType.DownEncoderBlock2D], [8, 16], normNumGroups: 4));
        Assert.Contains("down_block_types", e.Message);
        using var decoder = new Decoder(4, 1, [DecoderBlockType.UpDecoderBlock2D], [8], normNumGroups: 4);
        e = Assert.Throws<ArgumentException>(() => decoder.forward(zeros(1, 3, 4, 4)));
        Assert.Contains("(B, 4, h, w)", e.Message);
    }
}
