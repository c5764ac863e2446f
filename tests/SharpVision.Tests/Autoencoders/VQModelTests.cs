using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Quantization;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Autoencoders;

public sealed class VQModelTests() : TempFolderTest("sv-vqm-")
{
    static string Fixture => FixtureRoot.Combine("vq", "vq_model_small");

    internal static VQModelConfig Small(Func<VQModelConfig, VQModelConfig>? edit = null)
    {
        var c = new VQModelConfig
        {
            InChannels = 1, OutChannels = 1, BlockOutChannels = [8, 16], LayersPerBlock = 1, NormNumGroups = 4, LatentChannels = 3,
            NumVqEmbeddings = 16, DownBlockTypes = [EncoderBlockType.DownEncoderBlock2D, EncoderBlockType.DownEncoderBlock2D],
            UpBlockTypes = [DecoderBlockType.UpDecoderBlock2D, DecoderBlockType.UpDecoderBlock2D],
        };
        return edit is null ? c : edit(c);
    }

    [Fact]
    public void StateDictKeysAndShapesEqualTheReferenceCheckpoint()
    {
        using var model = new VQModel(VQModelConfig.FromFile(Path.Combine(Fixture, VQModel.ConfigFileName)));
        StateDictAssert.KeysAndShapesEqual(Path.Combine(Fixture, VQModel.WeightsFileName), model);
    }

    [Fact]
    public void ConfigRoundTripsAndKeepsUnknownKeys()
    {
        var text = File.ReadAllText(Path.Combine(Fixture, VQModel.ConfigFileName));
        var config = VQModelConfig.FromJson(text);
        Assert.Equal(32, config.NumVqEmbeddings);
        Assert.Null(config.VqEmbedDim);
        Assert.Equal(4, config.EmbedDim);
        Assert.Equal(DecoderNormType.Group, config.NormType);
        Assert.True(config.Extra!.ContainsKey("_diffusers_version"));
        Assert.Equal(config.ToJson(), VQModelConfig.FromJson(config.ToJson()).ToJson());
        Assert.Contains("\"vq_embed_dim\": null", config.ToJson());
    }

    [Fact]
    public void UnknownBlockTypeListsTheAllowedValues()
    {
        var e = Assert.Throws<InvalidDataException>(() => VQModelConfig.FromJson("{\"down_block_types\": [\"DownBlock2D\"]}"));
        Assert.Contains("DownEncoderBlock2D", e.Message);
    }

    [Fact]
    public void SpatialNormIsRejectedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => new VQModel(Small(c => c with { NormType = DecoderNormType.Spatial })));
        Assert.Contains("spatial", e.Message);
    }

    [Fact]
    public void SaveThenLoadGivesIdenticalOutputsAndADiffusersFolder()
    {
        torch.manual_seed(3);
        using var model = new VQModel(Small(c => c with { VqEmbedDim = 5 }));
        model.eval();
        model.SavePretrained(Temp);
        var json = File.ReadAllText(Path.Combine(Temp, VQModel.ConfigFileName));
        Assert.Contains("\"_class_name\": \"VQModel\"", json);
        Assert.Empty(Directory.GetFiles(Temp, "*.tmp"));

        using var loaded = VQModel.FromPretrained(Temp);
        Assert.Equal((model.Config with { Extra = null }).ToJson(), (loaded.Config with { Extra = null }).ToJson());
        using var noGrad = torch.no_grad();
        var x = randn(2, 1, 12, 12);
        var a = model.forward(x);
        var b = loaded.forward(x);
        Assert.Equal([2L, 1, 12, 12], a.Sample.shape);
        Assert.True(a.Sample.eq(b.Sample).all().item<bool>(), "reloaded model gives different outputs");
        Assert.Equal(a.CommitLoss!.item<float>(), b.CommitLoss!.item<float>());
    }

    [Fact]
    public void EmaQuantizerStateIsSavedAndNeedsTheSameOptionsToLoad()
    {
        var ema = new VectorQuantizerOptions { Update = QuantizerUpdate.Ema };
        using var model = new VQModel(Small(), ema);
        model.train();
        using (torch.no_grad()) model.forward(randn(2, 1, 8, 8));
        model.SavePretrained(Temp);
        using var loaded = VQModel.FromPretrained(Temp, quantizer: ema);
        Assert.Equal(1L, loaded.quantize.ema_steps!.item<long>());
        var e = Assert.Throws<CheckpointMismatchException>(() => VQModel.FromPretrained(Temp));
        Assert.Contains("quantize.ema_cluster_size", e.UnexpectedKeys);
    }

    [Fact]
    public void DecodeWithoutQuantizingUsesTheLatentsOrTheCodebook()
    {
        torch.manual_seed(4);
        using var model = new VQModel(Small(c => c with { LookupFromCodebook = true }));
        model.eval();
        using var noGrad = torch.no_grad();
        var latents = model.Encode(randn(2, 1, 8, 8));
        Assert.Equal([2L, 3, 4, 4], latents.shape);
        var q = model.Quantize(latents);
        var viaQuantizer = model.Decode(latents);
        var viaIndices = model.Decode(q.Indices.flatten(), forceNotQuantize: true, shape: [2, 4, 4, 3]);
        Assert.True(viaQuantizer.Sample.allclose(viaIndices.Sample, rtol: 1e-5, atol: 1e-6));
        Assert.Equal([2L], viaIndices.CommitLoss!.shape);
        Assert.Equal(0f, viaIndices.CommitLoss.abs().sum().item<float>());
        Assert.Throws<ArgumentException>(() => model.Decode(q.Indices.flatten(), forceNotQuantize: true));

        using var plain = new VQModel(Small());
        plain.eval();
        var raw = plain.Decode(latents, forceNotQuantize: true).Sample;
        Assert.True(raw.allclose(plain.DecodeQuantized(latents)));
    }

    [Fact]
    public void WrongChannelCountNamesTheExpectedShape()
    {
        using var model = new VQModel(Small());
        var e = Assert.Throws<ArgumentException>(() => model.Encode(zeros(1, 3, 8, 8)));
        Assert.Contains("(B, 1, H, W)", e.Message);
        Assert.Contains("(1, 3, 8, 8)", e.Message);
    }

    [Fact]
    public void WeightsOfAnotherModelAreRejected()
    {
        Directory.CreateDirectory(Temp);
        File.Copy(Path.Combine(FixtureRoot.Combine("vae", "autoencoder_kl_small"), VQModel.WeightsFileName), Path.Combine(Temp, VQModel.WeightsFileName));
        File.Copy(Path.Combine(Fixture, VQModel.ConfigFileName), Path.Combine(Temp, VQModel.ConfigFileName));
        var e = Assert.Throws<CheckpointMismatchException>(() => VQModel.FromPretrained(Temp));
        Assert.Contains("quantize.embedding.weight", e.MissingKeys);
        File.WriteAllText(Path.Combine(Temp, VQModel.ConfigFileName), "{\"_class_name\": \"AutoencoderKL\"}");
        Assert.Throws<InvalidDataException>(() => VQModel.FromPretrained(Temp));
    }
}
