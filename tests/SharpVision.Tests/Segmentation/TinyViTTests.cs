using SharpVision.Nn.Checkpoints;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class TinyViTTests
{
    static SamModel BuildRandomized(SamConfig config, int seed)
    {
        var sam = SamModel.Build(config);
        torch.manual_seed(seed);
        using var noGrad = no_grad();
        // Fresh attention biases are zero and MBConv's last batch norm scale is zero; draw them so every path counts.
        foreach (var (name, p) in sam.named_parameters())
            if (name.EndsWith("attention_biases", StringComparison.Ordinal) || name.Contains(".conv3.bn.weight", StringComparison.Ordinal)) p.normal_(0, 0.5);
        return sam;
    }

    [Fact]
    public void Encodes_to_the_prompt_encoder_grid()
    {
        using var sam = SamModel.Build(TinyMobileSam.Config);
        var encoder = Assert.IsType<TinyViT>(sam.image_encoder);
        Assert.Equal(new (long, long)[] { (16, 16), (8, 8), (4, 4), (4, 4) }, encoder.StageResolutions);
        using var y = encoder.call(randn(2, 3, 64, 64));
        Assert.Equal(new long[] { 2, 32, 4, 4 }, y.shape);
        Assert.Equal(sam.prompt_encoder.ImageEmbeddingSize, encoder.EmbeddingSize);
    }

    [Fact]
    public void Bias_indexes_number_offsets_in_order_of_first_appearance_as_the_reference()
    {
        var resolution = (H: 3L, W: 2L);
        using var attn = new TinyViTAttention(dim: 8, keyDim: 4, numHeads: 2, resolution);
        var points = Enumerable.Range(0, 3).SelectMany(y => Enumerable.Range(0, 2).Select(x => (y, x))).ToList();
        var offsets = new Dictionary<(int, int), long>();
        var expected = new List<long>();
        foreach (var p1 in points)
            foreach (var p2 in points)
            {
                var offset = (Math.Abs(p1.y - p2.y), Math.Abs(p1.x - p2.x));
                if (!offsets.ContainsKey(offset)) offsets[offset] = offsets.Count;
                expected.Add(offsets[offset]);
            }
        Assert.Equal(new long[] { 6, 6 }, attn.attention_bias_idxs.shape);
        Assert.Equal(expected, attn.attention_bias_idxs.data<long>().ToArray());
        Assert.Equal(new long[] { 2, offsets.Count }, attn.attention_biases.shape);
    }

    [Fact]
    public void The_bias_index_buffer_stays_out_of_the_state_dict_when_the_model_is_cast()
    {
        using var sam = SamModel.Build(TinyMobileSam.Config);
        Assert.DoesNotContain(sam.state_dict().Keys, k => k.Contains("attention_bias_idxs", StringComparison.Ordinal));
        sam.to(ScalarType.Float64);
        Assert.DoesNotContain(sam.state_dict().Keys, k => k.Contains("attention_bias_idxs", StringComparison.Ordinal));
        var attn = sam.named_modules().Select(m => m.module).OfType<TinyViTAttention>().First();
        Assert.Equal(ScalarType.Int64, attn.attention_bias_idxs.dtype);
        using var y = sam.image_encoder.call(randn(1, 3, 64, 64, dtype: ScalarType.Float64));
        Assert.Equal(ScalarType.Float64, y.dtype);
    }

    [Fact]
    public void Scaled_dot_product_attention_agrees_with_the_explicit_softmax()
    {
        using var sam = BuildRandomized(TinyMobileSam.Config, seed: 1);
        sam.to(ScalarType.Float64);
        using var x = randn(1, 3, 64, 64, dtype: ScalarType.Float64);
        using var reference = sam.image_encoder.call(x);
        sam.UseScaledDotProductAttention(true);
        using var fused = sam.image_encoder.call(x);
        Assert.True(fused.allclose(reference, rtol: 1e-9, atol: 1e-9), $"max |diff| {(fused - reference).abs().max().item<double>()}");
    }

    [Fact]
    public void A_wrong_input_size_names_the_expected_and_actual_shapes()
    {
        using var sam = SamModel.Build(TinyMobileSam.Config);
        var e = Assert.Throws<ArgumentException>(() => sam.image_encoder.call(zeros(1, 3, 32, 32)));
        Assert.Contains("(B, C, 64, 64)", e.Message);
        Assert.Contains("(1, 3, 32, 32)", e.Message);
    }

    [Fact]
    public void An_image_side_the_stages_cannot_halve_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new TinyViT(36, TinyMobileSam.Config.TinyViT!));
        Assert.Contains("9x9 then 4x4", e.Message);
    }

    [Fact]
    public void Predictor_runs_end_to_end_on_a_TinyViT_model()
    {
        using var sam = BuildRandomized(TinyMobileSam.Config, seed: 2);
        using var predictor = new SamPredictor(sam);
        var image = new byte[40 * 50 * 3];
        new Random(0).NextBytes(image);
        predictor.SetImage(image, 40, 50);
        Assert.Equal(new long[] { 1, 32, 4, 4 }, predictor.GetImageEmbedding().shape);
        using var prediction = predictor.Predict([(20.0, 10.0)], [1], box: (5, 5, 30, 35));
        Assert.Equal(new long[] { 3, 40, 50 }, prediction.Masks.shape);
        Assert.Equal(new long[] { 3, 16, 16 }, prediction.LowResLogits.shape);
    }

    [Fact]
    public void A_vit_t_state_dict_saved_as_torch_save_loads_strictly_through_the_official_checkpoint_path()
    {
        var dir = Directory.CreateTempSubdirectory("sv-vit-t-").FullName;
        try
        {
            var path = Path.Combine(dir, "mobile_sam.pt");
            Dictionary<string, Tensor> saved;
            using (var source = BuildRandomized(SamConfig.VitT, seed: 3))
            {
                saved = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
                StateDict.SavePyTorch(saved, path);
            }
            using var loaded = SamModel.FromCheckpoint(path, "vit_t");
            var sd = loaded.state_dict();
            Assert.Equal(saved.Keys.Order(StringComparer.Ordinal), sd.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, t) in saved) Assert.True(t.eq(sd[key]).all().item<bool>(), key);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_TinyViT_checkpoint_given_to_a_ViT_model_is_recognised()
    {
        using var mobile = SamModel.Build(TinyMobileSam.Config);
        using var vit = SamModel.Build(Training.TinySam.Config);
        var e = Assert.Throws<CheckpointMismatchException>(() => vit.LoadStateDict(mobile.state_dict(), "tiny_mobile_sam.pt"));
        Assert.Contains("it holds a custom-size TinyViT model: TinyViT embed_dims [8, 16, 24, 32], depths [1, 1, 2, 1]", e.Message);
        Assert.Contains("this model is a custom size: embed_dim 32, 1 blocks", e.Message);
        Assert.Contains("image_encoder.patch_embed.seq.0.c.weight", e.UnexpectedKeys);
    }

    [Theory]
    [InlineData(1, 1, 0, 1)]
    [InlineData(3, 2, 1, 6)] // a depthwise 3×3 with stride 2
    public void Eval_folds_the_batch_norm_into_the_convolution(int ks, int stride, int pad, int groups)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var layer = new Conv2d_BN(6, 6, ks, stride, pad, groups);
        using (no_grad())
        {
            layer.bn.running_mean!.normal_(0, 1);
            layer.bn.running_var!.uniform_(0.5, 2);
            layer.bn.weight!.normal_(1, 0.3);
            layer.bn.bias!.normal_(0, 0.3);
        }
        layer.eval();
        var x = randn([2, 6, 9, 9], generator: new Generator(4));
        var unfolded = layer.bn.call(layer.c.call(x));
        var folded = layer.call(x);
        Assert.True(folded.allclose(unfolded, 1e-5, 1e-5), $"max error {(folded - unfolded).abs().max().item<float>()}");
        layer.train();
        // Training runs the two modules on batch statistics: every channel's mean is then the batch norm's shift.
        var trainingOut = layer.call(x);
        Assert.True(trainingOut.mean([0, 2, 3]).allclose(layer.bn.bias!, 1e-4, 1e-4));
        Assert.False(folded.mean([0, 2, 3]).allclose(layer.bn.bias!, 1e-2, 1e-2));
    }

    [Fact]
    public void Folded_convolutions_count_the_same_multiply_accumulates_as_the_unfolded_ones()
    {
        using var scope = NewDisposeScope();
        using var sam = SamModel.Build(TinyMobileSam.Config);
        var input = randn(1, 3, 64, 64);
        sam.image_encoder.eval(); // Conv2d_BN folds: its own count
        var folded = SharpVision.Nn.Flops.FlopCounter.Count(sam.image_encoder, input);
        sam.image_encoder.train(); // the Conv2d hooks count
        var unfolded = SharpVision.Nn.Flops.FlopCounter.Count(sam.image_encoder, input);
        Assert.Equal(unfolded.MultiplyAccumulates, folded.MultiplyAccumulates);
        Assert.True(folded.MultiplyAccumulates > 0);
    }
}
