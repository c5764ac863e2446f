using SharpVision.Nn.Checkpoints;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

public sealed class SamImageEmbeddingTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-embedding-").FullName;
    readonly byte[] image = RandomImage(40, 50);

    static byte[] RandomImage(int h, int w)
    {
        var rgb = new byte[h * w * 3];
        new Random(7).NextBytes(rgb);
        return rgb;
    }

    static SamModel RandomMobileSam()
    {
        var sam = SamModel.Build(TinyMobileSam.Config);
        torch.manual_seed(5);
        using var noGrad = no_grad();
        foreach (var (name, p) in sam.named_parameters())
            if (name.EndsWith("attention_biases", StringComparison.Ordinal)) p.normal_(0, 0.5);
        return sam;
    }

    /// <summary>Encodes the test image with a fresh random MobileSAM and saves its embedding to <paramref name="path"/>.</summary>
    void SaveEmbedding(string path)
    {
        using var sam = RandomMobileSam();
        using var predictor = new SamPredictor(sam);
        predictor.SetImage(image, 40, 50);
        predictor.SaveImageEmbedding(path);
    }

    [Fact]
    public void A_saved_embedding_answers_prompts_exactly_as_the_encoded_image()
    {
        var path = Path.Combine(dir, "emb.safetensors");
        using var sam = RandomMobileSam();
        using var direct = new SamPredictor(sam);
        direct.SetImage(image, 40, 50);
        using var expected = direct.Predict([(20.0, 10.0), (3.0, 30.0)], [1, 0], box: (5, 5, 30, 35), returnLogits: true);
        direct.SaveImageEmbedding(path);

        using var later = new SamPredictor(sam);
        later.LoadImageEmbedding(path);
        Assert.Equal(direct.OriginalSize, later.OriginalSize);
        Assert.Equal(direct.InputSize, later.InputSize);
        Assert.True(later.GetImageEmbedding().equal(direct.GetImageEmbedding()).all().item<bool>());
        using var actual = later.Predict([(20.0, 10.0), (3.0, 30.0)], [1, 0], box: (5, 5, 30, 35), returnLogits: true);
        Assert.True(actual.Masks.equal(expected.Masks).all().item<bool>());
        Assert.True(actual.IouPredictions.equal(expected.IouPredictions).all().item<bool>());
    }

    [Fact]
    public void The_file_describes_the_model_and_the_image()
    {
        var path = Path.Combine(dir, "emb.safetensors");
        SaveEmbedding(path);
        var info = SamImageEmbedding.Read(path);
        Assert.Equal("custom", info.ModelType);
        Assert.Equal("TinyViT embed_dims [8, 16, 24, 32], depths [1, 1, 2, 1]", info.ImageEncoder);
        Assert.Equal((64, (51, 64), (40, 50)), (info.ImageSize, info.InputSize, info.OriginalSize));
        Assert.Equal([1L, 32, 4, 4], info.EmbeddingShape);
    }

    [Fact]
    public void An_embedding_of_another_model_is_rejected_naming_both()
    {
        var path = Path.Combine(dir, "emb.safetensors");
        SaveEmbedding(path);
        using var vit = SamModel.Build(Training.TinySam.Config);
        using var other = new SamPredictor(vit);
        var e = Assert.Throws<InvalidDataException>(() => other.LoadImageEmbedding(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("custom model (TinyViT embed_dims [8, 16, 24, 32], depths [1, 1, 2, 1]; image_size 64, embedding (1, 32, 4, 4))", e.Message);
        Assert.Contains("this model is custom model (embed_dim 32, 1 blocks; image_size 32, embedding (1, 32, 4, 4))", e.Message);
        Assert.False(other.IsImageSet);
        var vitT = Assert.Throws<InvalidDataException>(() => SamImageEmbedding.Read(path).CheckMatches(SamConfig.VitT, "emb"));
        Assert.Contains("this model is vit_t model", vitT.Message);
    }

    [Fact]
    public void A_safetensors_file_without_the_description_is_not_an_embedding()
    {
        var path = Path.Combine(dir, "plain.safetensors");
        StateDict.SaveSafetensors(new Dictionary<string, Tensor> { ["image_embedding"] = zeros(1, 32, 4, 4) }, path);
        using var sam = SamModel.Build(TinyMobileSam.Config);
        using var predictor = new SamPredictor(sam);
        var e = Assert.Throws<InvalidDataException>(() => predictor.LoadImageEmbedding(path));
        Assert.Contains("is not a SAM image embedding file", e.Message);
    }

    [Fact]
    public void Saving_needs_an_image()
    {
        using var sam = SamModel.Build(TinyMobileSam.Config);
        using var predictor = new SamPredictor(sam);
        Assert.Throws<InvalidOperationException>(() => predictor.SaveImageEmbedding(Path.Combine(dir, "x.safetensors")));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
