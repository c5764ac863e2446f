using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Diffusion;

public sealed class UNet2DModelTests() : TempFolderTest("sv-unet-")
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static string Fixture(string name) => FixtureRoot.Combine("unet", name);

    /// <summary>A small config exercising attention, two levels and the default options.</summary>
    static UNet2DModelConfig Small(Func<UNet2DModelConfig, UNet2DModelConfig>? edit = null)
    {
        var c = new UNet2DModelConfig
        {
            InChannels = 1, OutChannels = 1, BlockOutChannels = [16, 32], LayersPerBlock = 1, NormNumGroups = 8, AttentionHeadDim = 8,
            DownBlockTypes = [DownBlockType.DownBlock2D, DownBlockType.AttnDownBlock2D],
            UpBlockTypes = [UpBlockType.AttnUpBlock2D, UpBlockType.UpBlock2D],
        };
        return edit is null ? c : edit(c);
    }

    [Theory]
    [InlineData("unet2d_small")]
    [InlineData("unet2d_class_scaleshift")]
    public void StateDictKeysAndShapesEqualTheReferenceCheckpoint(string name)
    {
        using var model = new UNet2DModel(UNet2DModelConfig.FromFile(Path.Combine(Fixture(name), UNet2DModel.ConfigFileName)));
        StateDictAssert.KeysAndShapesEqual(Path.Combine(Fixture(name), UNet2DModel.WeightsFileName), model);
    }

    [Fact]
    public void SaveThenLoadGivesIdenticalOutputsAndADiffusersFolder()
    {
        torch.manual_seed(1);
        using var model = new UNet2DModel(Small(c => c with { NumClassEmbeds = 4, ResnetTimeScaleShift = ResnetTimeScaleShift.ScaleShift }));
        model.eval();
        model.SavePretrained(Temp);
        Assert.True(File.Exists(Path.Combine(Temp, UNet2DModel.WeightsFileName)));
        var json = File.ReadAllText(Path.Combine(Temp, UNet2DModel.ConfigFileName));
        Assert.Contains("\"_class_name\": \"UNet2DModel\"", json);
        Assert.Contains("\"resnet_time_scale_shift\": \"scale_shift\"", json);
        Assert.Empty(Directory.GetFiles(Temp, "*.tmp"));

        using var loaded = UNet2DModel.FromPretrained(Temp);
        Assert.Equal((model.Config with { Extra = null }).ToJson(), (loaded.Config with { Extra = null }).ToJson());
        using var noGrad = torch.no_grad();
        var x = randn(3, 1, 8, 8);
        var t = tensor(new long[] { 5, 500, 999 });
        var labels = tensor(new long[] { 0, 3, 1 });
        var a = model.forward(x, t, labels);
        var b = loaded.forward(x, t, labels);
        Assert.True(Same(a, b), "reloaded model gives different outputs");
        Assert.False(a.isnan().any().item<bool>());
    }

    [Fact]
    public void FromPretrainedConvertsToFloat64()
    {
        using var model = UNet2DModel.FromPretrained(Fixture("unet2d_small"), ScalarType.Float64);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        Assert.False(model.training);
        Assert.Throws<ArgumentException>(() => UNet2DModel.FromPretrained(Fixture("unet2d_small"), ScalarType.Int32));
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        Directory.CreateDirectory(Temp);
        var e = Assert.Throws<FileNotFoundException>(() => UNet2DModel.FromPretrained(Temp));
        Assert.Contains(UNet2DModel.ConfigFileName, e.Message);
        File.Copy(Path.Combine(Fixture("unet2d_small"), UNet2DModel.ConfigFileName), Path.Combine(Temp, UNet2DModel.ConfigFileName));
        e = Assert.Throws<FileNotFoundException>(() => UNet2DModel.FromPretrained(Temp));
        Assert.Contains(UNet2DModel.WeightsFileName, e.Message);
    }

    [Fact]
    public void WeightsOfAnotherConfigNameTheFileAndKeys()
    {
        Directory.CreateDirectory(Temp);
        File.Copy(Path.Combine(Fixture("unet2d_class_scaleshift"), UNet2DModel.WeightsFileName), Path.Combine(Temp, UNet2DModel.WeightsFileName));
        File.Copy(Path.Combine(Fixture("unet2d_small"), UNet2DModel.ConfigFileName), Path.Combine(Temp, UNet2DModel.ConfigFileName));
        var e = Assert.Throws<CheckpointMismatchException>(() => UNet2DModel.FromPretrained(Temp));
        Assert.Contains(UNet2DModel.WeightsFileName, e.Message);
        Assert.Contains("class_embedding.weight", e.UnexpectedKeys);
        Assert.Contains(e.ShapeMismatches, s => s.StartsWith("conv_in.weight", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigOfAnotherClassIsRejected()
    {
        Directory.CreateDirectory(Temp);
        File.WriteAllText(Path.Combine(Temp, UNet2DModel.ConfigFileName), "{\"_class_name\": \"VQModel\"}");
        var e = Assert.Throws<InvalidDataException>(() => UNet2DModel.FromPretrained(Temp));
        Assert.Contains("VQModel", e.Message);
    }

    [Theory]
    [InlineData(2, 3, 16, 16)] // channels
    [InlineData(2, 1, 15, 16)] // height not a multiple of 2
    [InlineData(2, 1, 16, 10 + 1)] // width
    [InlineData(1, 16, 16, 0)] // rank 3 (last dim dropped below)
    public void SamplesThatDoNotFitNameBothShapes(long b, long c, long h, long w)
    {
        using var model = new UNet2DModel(Small());
        var x = w == 0 ? randn(b, c, h) : randn(b, c, h, w);
        var e = Assert.Throws<ArgumentException>(() => model.forward(x, 10));
        Assert.Equal("sample", e.ParamName);
        Assert.Contains("(B, 1, H, W) with H and W multiples of 2", e.Message);
        Assert.Contains("got (" + string.Join(", ", x.shape) + ")", e.Message);
    }

    [Fact]
    public void TimestepAndClassLabelChecks()
    {
        using var model = new UNet2DModel(Small());
        var x = randn(2, 1, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => model.forward(x, tensor(new long[] { 1, 2, 3 }), null));
        Assert.Contains("got (3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.forward(x, 1, tensor(new long[] { 0, 1 })));
        Assert.Contains("no class embedding", e.Message);
        using var conditional = new UNet2DModel(Small(c => c with { NumClassEmbeds = 3 }));
        e = Assert.Throws<ArgumentException>(() => conditional.forward(x, 1));
        Assert.Contains("classLabels are required", e.Message);
    }

    [Fact]
    public void ScalarOneAndBatchTimestepsAgree()
    {
        torch.manual_seed(2);
        using var model = new UNet2DModel(Small());
        model.eval();
        using var noGrad = torch.no_grad();
        var x = randn(2, 1, 8, 8);
        var a = model.forward(x, 7);
        var b = model.forward(x, tensor(7L), null);
        var c = model.forward(x, tensor(new long[] { 7, 7 }), null);
        Assert.True(Same(a, b));
        Assert.True(Same(a, c));
        var d = model.forward(x, tensor(new long[] { 7, 8 }), null);
        Assert.True(Same(a[0], d[0]));
        Assert.False(Same(a[1], d[1]));
    }

    [Fact]
    public void OtherBlockTypesAndOptionsBuildWithDiffusersKeysAndTrain()
    {
        torch.manual_seed(3);
        var config = Small(c => c with
        {
            BlockOutChannels = [8, 16, 16],
            DownBlockTypes = [DownBlockType.ResnetDownsampleBlock2D, DownBlockType.AttnDownBlock2D, DownBlockType.DownBlock2D],
            UpBlockTypes = [UpBlockType.UpBlock2D, UpBlockType.AttnUpBlock2D, UpBlockType.ResnetUpsampleBlock2D],
            DownsampleType = DownsampleType.Resnet, UpsampleType = UpsampleType.Resnet, NormNumGroups = 4,
            AddAttention = false, TimeEmbeddingType = TimeEmbeddingType.Fourier, CenterInputSample = true, Dropout = 0.1,
            ClassEmbedType = ClassEmbedType.Timestep,
        });
        using var model = new UNet2DModel(config);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("down_blocks.0.downsamplers.0.conv1.weight", keys); // resnet downsampler
        Assert.Contains("down_blocks.1.downsamplers.0.time_emb_proj.weight", keys);
        Assert.Contains("up_blocks.1.upsamplers.0.conv2.weight", keys); // resnet upsampler
        Assert.Contains("up_blocks.2.resnets.1.conv_shortcut.weight", keys);
        Assert.Contains("time_proj.weight", keys); // Gaussian Fourier frequencies
        Assert.Contains("class_embedding.linear_1.weight", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("mid_block.attentions", StringComparison.Ordinal));
        Assert.False(model.time_proj.parameters().Single().requires_grad);

        var x = rand(2, 1, 16, 16);
        var sigma = tensor(new float[] { 0.5f, 2f });
        var y = model.forward(x, sigma, tensor(new float[] { 3f, 9f }));
        Assert.Equal(x.shape, y.shape);
        y.square().mean().backward();
        Assert.All(model.parameters().Where(p => p.requires_grad), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void CenteringMapsTheInputAndDropoutIsOffInEval()
    {
        torch.manual_seed(7);
        using var plain = new UNet2DModel(Small(c => c with { Dropout = 0.5 }));
        using var centred = new UNet2DModel(Small(c => c with { Dropout = 0.5, CenterInputSample = true }));
        centred.load_state_dict(plain.state_dict());
        plain.eval();
        centred.eval();
        using var noGrad = torch.no_grad();
        var x = rand(2, 1, 8, 8);
        var a = centred.forward(x, 3);
        Assert.True(a.allclose(plain.forward(2 * x - 1, 3), rtol: 1e-5, atol: 1e-6));
        Assert.True(Same(a, centred.forward(x, 3)), "eval outputs differ between calls: dropout active?");
        centred.train();
        Assert.False(Same(a, centred.forward(x, 3)), "dropout 0.5 had no effect in training mode");
    }

    [Fact]
    public void InconsistentConfigsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new UNet2DModel(Small(c => c with { BlockOutChannels = [16, 32, 32] })));
        Assert.Contains("same length", e.Message);
        e = Assert.Throws<ArgumentException>(() => new UNet2DModel(Small(c => c with { TimeEmbeddingType = TimeEmbeddingType.Learned })));
        Assert.Contains("num_train_timesteps", e.Message);
    }
}
