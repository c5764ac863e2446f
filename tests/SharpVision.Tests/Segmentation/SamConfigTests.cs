using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;

namespace SharpVision.Tests.Segmentation;

public sealed class SamConfigTests
{
    [Fact]
    public void Fixture_config_round_trips_with_unknown_keys()
    {
        var json = File.ReadAllText(FixtureRoot.Combine("sam", "sam_tiny_point", "sam_config.json"));
        var withExtra = json.TrimEnd().TrimEnd('}') + ", \"future_option\": [1, 2]}";
        var config = SamConfig.FromJson(withExtra);
        Assert.Equal(72, config.ImageSize);
        Assert.Equal(8, config.PatchSize);
        Assert.Equal(9, config.ImageEmbeddingSize);
        Assert.Equal([1], config.EncoderGlobalAttnIndexes);
        Assert.Null(config.ModelType);
        var again = SamConfig.FromJson(config.ToJson());
        Assert.Contains("future_option", again.Extra!.Keys);
        Assert.Equal(config.ToJson(), again.ToJson());
    }

    [Fact]
    public void Presets_are_the_official_sizes()
    {
        Assert.Equal("vit_b", SamConfig.ForModelType("vit_b").ModelType);
        Assert.Equal((1024, 24, 16), (SamConfig.VitL.EncoderEmbedDim, SamConfig.VitL.EncoderDepth, SamConfig.VitL.EncoderNumHeads));
        Assert.Equal([7, 15, 23, 31], SamConfig.ForModelType("default").EncoderGlobalAttnIndexes);
        Assert.Equal((1024, 16, 14, 256), (SamConfig.VitH.ImageSize, SamConfig.VitH.PatchSize, SamConfig.VitH.WindowSize, SamConfig.VitH.PromptEmbedDim));
    }

    [Fact]
    public void Unknown_model_type_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => SamConfig.ForModelType("vit_x"));
        Assert.Contains("vit_x", e.Message);
        Assert.Contains("vit_b, vit_l, vit_h", e.Message);
    }

    [Fact]
    public void Invalid_sizes_name_the_key()
    {
        Assert.Contains("patch_size (7) must divide image_size (72)",
            Assert.Throws<InvalidDataException>(() => SamConfig.FromJson("{\"image_size\": 72, \"patch_size\": 7}")).Message);
        Assert.Contains("encoder_global_attn_indexes",
            Assert.Throws<InvalidDataException>(() => SamConfig.FromJson("{\"encoder_depth\": 2, \"encoder_global_attn_indexes\": [5]}")).Message);
        Assert.Throws<InvalidDataException>(() => SamConfig.FromJson("{\"image_size\": "));
    }
}
