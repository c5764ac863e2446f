using SharpVision.Nn.Checkpoints;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class SamTests
{
    static string TinyDir => FixtureRoot.Combine("sam", "sam_tiny_point");
    static SamConfig TinyConfig => SamConfig.Load(Path.Combine(TinyDir, "sam_config.json"));

    [Fact]
    public void State_dict_keys_and_shapes_equal_the_reference_checkpoint()
    {
        using var sam = SamModel.Build(TinyConfig);
        var reference = StateDict.LoadPyTorch(Path.Combine(TinyDir, "sam.pth"));
        var mine = sam.state_dict();
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), mine.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, t) in reference) Assert.True(t.shape.SequenceEqual(mine[key].shape), key);
        Assert.DoesNotContain("pixel_mean", mine.Keys);
    }

    [Fact]
    public void Vit_b_has_the_official_shapes()
    {
        // Three of vit_b's twelve blocks (the third global, as vit_b's block 2) keep the test fast; the rest is vit_b.
        using var sam = SamModel.Build(SamConfig.VitB with { EncoderDepth = 3, EncoderGlobalAttnIndexes = [2] });
        var sd = sam.state_dict();
        Assert.Equal(new long[] { 1, 64, 64, 768 }, sd["image_encoder.pos_embed"].shape);
        Assert.Equal(new long[] { 27, 64 }, sd["image_encoder.blocks.0.attn.rel_pos_h"].shape);   // 14x14 windows
        Assert.Equal(new long[] { 127, 64 }, sd["image_encoder.blocks.2.attn.rel_pos_w"].shape);  // global, 64x64
        Assert.Equal(new long[] { 256, 768, 1, 1 }, sd["image_encoder.neck.0.weight"].shape);
        Assert.Equal(new long[] { 2, 128 }, sd["prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"].shape);
        Assert.Equal(new long[] { 4, 1, 2, 2 }, sd["prompt_encoder.mask_downscaling.0.weight"].shape);
        Assert.Equal(new long[] { 256, 64, 2, 2 }, sd["mask_decoder.output_upscaling.0.weight"].shape);
        Assert.Equal(new long[] { 32, 256 }, sd["mask_decoder.output_hypernetworks_mlps.3.layers.2.weight"].shape);
        Assert.Equal(new long[] { 4, 256 }, sd["mask_decoder.iou_prediction_head.layers.2.weight"].shape);
        Assert.Equal(new long[] { 2304, 768 }, sd["image_encoder.blocks.1.attn.qkv.weight"].shape);
        Assert.Equal(3, sd.Keys.Count(k => k.EndsWith(".attn.qkv.weight", StringComparison.Ordinal)));
    }

    [Fact]
    public void Checkpoint_of_another_custom_size_names_both_sizes_and_the_keys()
    {
        using var other = SamModel.Build(TinyConfig with { EncoderDepth = 3, EncoderGlobalAttnIndexes = [2] });
        var e = Assert.Throws<CheckpointMismatchException>(() => other.LoadCheckpoint(Path.Combine(TinyDir, "sam.pth")));
        Assert.Contains("embed_dim 32, 2 blocks", e.Message);
        Assert.Contains("this model is a custom size: embed_dim 32, 3 blocks", e.Message);
        Assert.Contains("image_encoder.blocks.2.attn.qkv.weight", e.MissingKeys);
    }

    [Fact]
    public void Checkpoint_shaped_like_vit_l_is_recognised()
    {
        // A stand-in for sam_vit_l.pth: the keys that identify the size, with vit_l's patch embedding shape.
        var fake = new Dictionary<string, Tensor> { ["image_encoder.patch_embed.proj.weight"] = zeros(1024, 3, 16, 16) };
        for (int i = 0; i < 24; i++) fake[$"image_encoder.blocks.{i}.norm1.weight"] = zeros(1024);
        using var sam = SamModel.Build(TinyConfig);
        var e = Assert.Throws<CheckpointMismatchException>(() => sam.LoadStateDict(fake, "sam_vit_l.pth"));
        Assert.StartsWith("Checkpoint sam_vit_l.pth (it holds a vit_l model: embed_dim 1024, 24 blocks", e.Message);
        Assert.Contains("image_encoder.patch_embed.proj.weight: checkpoint (1024, 3, 16, 16) vs model (32, 3, 8, 8)", e.Message);
    }

    [Fact]
    public void Scaled_dot_product_attention_agrees_with_the_explicit_softmax()
    {
        using var sam = SamModel.FromCheckpoint(Path.Combine(TinyDir, "sam.pth"), TinyConfig);
        sam.to(ScalarType.Float64);
        using var noGrad = no_grad();
        var image = rand([1, 3, 72, 72], dtype: ScalarType.Float64, generator: new Generator(3)) * 255;
        var input = sam.Preprocess(image);
        var reference = sam.image_encoder.forward(input);
        var (sparse, dense) = sam.prompt_encoder.forward(tensor(new[] { 10.0, 20.0 }, [1, 1, 2]), tensor(new long[] { 1 }, [1, 1]), null, null);
        var (masks, iou) = sam.mask_decoder.forward(reference, sam.prompt_encoder.GetDensePe(), sparse, dense, true);

        sam.UseScaledDotProductAttention(true);
        var fused = sam.image_encoder.forward(input);
        var (masks2, iou2) = sam.mask_decoder.forward(fused, sam.prompt_encoder.GetDensePe(), sparse, dense, true);
        Assert.True(fused.allclose(reference, 1e-9, 1e-9));
        Assert.True(masks2.allclose(masks, 1e-9, 1e-9));
        Assert.True(iou2.allclose(iou, 1e-9, 1e-9));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Float32_grouped_convolution_attention_agrees_with_the_float64_batched_matmuls(int chunk)
    {
        // float32 on the CPU runs both attention products as oneDNN grouped convolutions; float64 runs the reference's
        // batched matmuls. Two images, windowed and global blocks, relative positions drawn non-zero.
        using var sam = SamModel.FromCheckpoint(Path.Combine(TinyDir, "sam.pth"), TinyConfig);
        using var noGrad = no_grad();
        foreach (var (name, p) in sam.named_parameters())
            if (name.Contains("rel_pos", StringComparison.Ordinal)) p.normal_(0, 0.5, generator: new Generator(9));
        var encoder = (ImageEncoderViT)sam.image_encoder;
        encoder.ChunkGlobalAttention(chunk);
        var input = sam.Preprocess(rand([1, 3, 72, 72], generator: new Generator(5)) * 255).repeat(2, 1, 1, 1);
        input[1].mul_(-0.5);
        var single = encoder.forward(input);
        sam.to(ScalarType.Float64);
        var reference = encoder.forward(input.to(ScalarType.Float64));
        Assert.True(single.to(ScalarType.Float64).allclose(reference, 1e-4, 1e-4), $"max error {(single.to(ScalarType.Float64) - reference).abs().max().item<double>()}");
        Assert.False(single[0].allclose(single[1])); // the two images stay apart
    }

    [Theory]
    [InlineData(false, 5)]
    [InlineData(true, 5)]
    [InlineData(false, 1)]
    [InlineData(true, 81)]
    public void Chunked_global_attention_agrees_with_attending_all_queries_at_once(bool sdpa, int chunk)
    {
        using var sam = SamModel.FromCheckpoint(Path.Combine(TinyDir, "sam.pth"), TinyConfig);
        sam.to(ScalarType.Float64);
        sam.UseScaledDotProductAttention(sdpa);
        using var noGrad = no_grad();
        var input = sam.Preprocess(rand([1, 3, 72, 72], dtype: ScalarType.Float64, generator: new Generator(4)) * 255);
        var whole = sam.image_encoder.forward(input);
        var encoder = (ImageEncoderViT)sam.image_encoder;
        encoder.ChunkGlobalAttention(chunk); // 9 x 9 = 81 tokens: 5 leaves a ragged last chunk
        Assert.All(encoder.blocks.OfType<ViTBlock>(), b => Assert.Equal(b.WindowSize == 0 ? chunk : 0, b.attn.QueryChunkSize));
        Assert.True(sam.image_encoder.forward(input).allclose(whole, 1e-10, 1e-10));
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.ChunkGlobalAttention(-1));
    }

    [Fact]
    public void Preprocess_normalises_and_pads_and_rejects_oversized_input()
    {
        using var sam = SamModel.Build(TinyConfig);
        var image = full([1, 3, 10, 20], 123.675f);
        var x = sam.Preprocess(image);
        Assert.Equal(new long[] { 1, 3, 72, 72 }, x.shape);
        Assert.Equal(0f, x[0, 0, 0, 0].item<float>(), 5);
        Assert.Equal(0f, x[0, 0, 50, 50].item<float>()); // padding
        var e = Assert.Throws<ArgumentException>(() => sam.Preprocess(zeros(1, 3, 80, 20)));
        Assert.Contains("0 < h, w <= 72; got (1, 3, 80, 20)", e.Message);
    }

    [Fact]
    public void Postprocess_crops_the_padding_and_scales_to_the_original_size()
    {
        using var sam = SamModel.Build(TinyConfig);
        var masks = sam.PostprocessMasks(randn(2, 3, 36, 36), (72, 53), (50, 37));
        Assert.Equal(new long[] { 2, 3, 50, 37 }, masks.shape);
    }
}
