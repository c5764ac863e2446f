using System.Text.Json;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Blocks;

namespace SharpVision.Tests.Diffusion;

public sealed class UNet2DModelConfigTests
{
    [Fact]
    public void ReadsTheReferenceConfig()
    {
        var c = UNet2DModelConfig.FromFile(FixtureRoot.Combine("unet", "unet2d_class_scaleshift", "config.json"));
        Assert.Equal([16, 32, 32], c.BlockOutChannels);
        Assert.Equal([DownBlockType.DownBlock2D, DownBlockType.AttnDownBlock2D, DownBlockType.DownBlock2D], c.DownBlockTypes);
        Assert.Equal(ResnetTimeScaleShift.ScaleShift, c.ResnetTimeScaleShift);
        Assert.Equal(10, c.NumClassEmbeds);
        Assert.Null(c.ClassEmbedType);
        Assert.Equal(MidBlockType.UNetMidBlock2D, c.MidBlockType);
        Assert.Equal([16], c.SampleSize!);
        Assert.Equal(64, c.TimeEmbedDim);
        Assert.Equal("UNet2DModel", c.Extra!["_class_name"].GetString());
    }

    [Fact]
    public void RoundTripsEveryKeyOfTheReferenceFile()
    {
        var path = FixtureRoot.Combine("unet", "unet2d_small", "config.json");
        var original = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        var written = JsonDocument.Parse(UNet2DModelConfig.FromFile(path).ToJson()).RootElement;
        var keys = original.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), written.EnumerateObject().Select(p => p.Name));
        foreach (var key in keys)
            Assert.True(JsonElement.DeepEquals(original.GetProperty(key), written.GetProperty(key)) ||
                        (original.GetProperty(key).ValueKind == JsonValueKind.Number && original.GetProperty(key).GetDouble() == written.GetProperty(key).GetDouble()),
                $"{key}: {original.GetProperty(key)} became {written.GetProperty(key)}");
    }

    [Fact]
    public void EmptyConfigHasDiffusersDefaults()
    {
        var c = UNet2DModelConfig.FromJson("{}");
        Assert.Equal(3, c.InChannels);
        Assert.Equal(3, c.OutChannels);
        Assert.Equal([224, 448, 672, 896], c.BlockOutChannels);
        Assert.Equal([UpBlockType.AttnUpBlock2D, UpBlockType.AttnUpBlock2D, UpBlockType.AttnUpBlock2D, UpBlockType.UpBlock2D], c.UpBlockTypes);
        Assert.Equal(2, c.LayersPerBlock);
        Assert.Equal(8, c.AttentionHeadDim);
        Assert.Equal(32, c.NormNumGroups);
        Assert.Equal(1e-5, c.NormEps);
        Assert.True(c.FlipSinToCos);
        Assert.Equal(0, c.FreqShift);
        Assert.Equal(TimeEmbeddingType.Positional, c.TimeEmbeddingType);
        Assert.Equal(ActivationFunction.Silu, c.ActFn);
        Assert.Null(c.SampleSize);
        Assert.Equal(c, UNet2DModelConfig.FromJson(c.ToJson()) with { DownBlockTypes = c.DownBlockTypes, UpBlockTypes = c.UpBlockTypes, BlockOutChannels = c.BlockOutChannels, Extra = c.Extra });
    }

    [Fact]
    public void KeepsUnknownKeysAndRectangularSampleSize()
    {
        var c = UNet2DModelConfig.FromJson("{\"sample_size\": [32, 48], \"some_future_option\": {\"a\": [1, 2]}, \"mid_block_type\": null}");
        Assert.Equal([32, 48], c.SampleSize!);
        Assert.Null(c.MidBlockType);
        var back = JsonDocument.Parse(c.ToJson()).RootElement;
        Assert.Equal(2, back.GetProperty("some_future_option").GetProperty("a").GetArrayLength());
        Assert.Equal(48, back.GetProperty("sample_size")[1].GetInt32());
        Assert.Equal(JsonValueKind.Null, back.GetProperty("mid_block_type").ValueKind);
    }

    [Theory]
    [InlineData("{\"down_block_types\": [\"CrossAttnDownBlock2D\"]}", "DownBlock2D, AttnDownBlock2D, ResnetDownsampleBlock2D")]
    [InlineData("{\"resnet_time_scale_shift\": \"spatial\"}", "default, scale_shift")]
    [InlineData("{\"act_fn\": \"tanh\"}", "silu, swish, mish, gelu, relu")]
    [InlineData("{\"in_channels\": [1]}", "in_channels")]
    public void UnknownOptionsListTheAllowedValues(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => UNet2DModelConfig.FromJson(json));
        Assert.Contains(expected, e.Message);
    }
}
