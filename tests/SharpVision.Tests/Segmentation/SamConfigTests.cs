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

    [Fact]
    public void Vit_t_is_MobileSAMs_build_sam_vit_t()
    {
        var t = SamConfig.ForModelType("vit_t");
        Assert.Equal("vit_t", t.ModelType);
        Assert.Equal([64, 128, 160, 320], t.TinyViT!.EmbedDims);
        Assert.Equal([2, 2, 6, 2], t.TinyViT.Depths);
        Assert.Equal([2, 4, 5, 10], t.TinyViT.NumHeads);
        Assert.Equal([7, 7, 14, 7], t.TinyViT.WindowSizes);
        Assert.Equal((4.0, 1024, 64), (t.TinyViT.MlpRatio, t.ImageSize, t.ImageEmbeddingSize));
        Assert.Equal((256, 16, 2048, 8, 256), (t.PromptEmbedDim, t.MaskInChans, t.DecoderMlpDim, t.DecoderNumHeads, t.IouHeadHiddenDim));
        Assert.Null((t with { TinyViT = t.TinyViT with { Depths = [1, 1, 1, 1] } }).ModelType);
        Assert.Null(SamConfig.VitB.TinyViT);
    }

    [Fact]
    public void A_tiny_vit_object_round_trips_and_selects_the_TinyViT_encoder()
    {
        var json = """{"image_size": 64, "patch_size": 16, "prompt_embed_dim": 32, "tiny_vit": {"embed_dims": [8, 16, 24, 32], "depths": [1, 1, 2, 1], "num_heads": [1, 2, 2, 2], "window_sizes": [2, 2, 3, 2], "num_classes": 10, "later": true}}""";
        var config = SamConfig.FromJson(json);
        Assert.Equal([1, 1, 2, 1], config.TinyViT!.Depths);
        Assert.Equal(4.0, config.TinyViT.MbconvExpandRatio);
        var again = SamConfig.FromJson(config.ToJson());
        Assert.True(again.TinyViT!.SameSize(config.TinyViT));
        Assert.Contains("later", again.TinyViT.Extra!.Keys);
        Assert.DoesNotContain("tiny_vit", SamConfig.VitB.ToJson());
    }

    [Fact]
    public void Invalid_TinyViT_sizes_name_the_key()
    {
        Assert.Contains("gives TinyViT a 4-wide embedding, but image_size / patch_size is 8",
            Assert.Throws<InvalidDataException>(() => SamConfig.FromJson("""{"image_size": 64, "patch_size": 8, "tiny_vit": {}}""")).Message);
        Assert.Contains("num_heads must have one entry per stage (4); got 3",
            Assert.Throws<InvalidDataException>(() => SamConfig.FromJson("""{"image_size": 64, "patch_size": 16, "tiny_vit": {"num_heads": [1, 2, 2]}}""")).Message);
        Assert.Contains("num_heads[2] (7) must divide embed_dims[2] (160)",
            Assert.Throws<InvalidDataException>(() => SamConfig.FromJson("""{"tiny_vit": {"num_heads": [2, 4, 7, 10]}}""")).Message);
    }
}
