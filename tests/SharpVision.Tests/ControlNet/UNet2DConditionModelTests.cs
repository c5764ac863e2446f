using SharpVision.Diffusion.Models;
using SharpVision.Nn.Checkpoints;
using static SharpVision.Tests.ControlNet.ControlNetTestModels;

namespace SharpVision.Tests.ControlNet;

public sealed class UNet2DConditionModelTests() : TempFolderTest("sv-unet2dc-")
{
    static string FixtureUNet => FixtureRoot.Combine("controlnet", "controlnet_trained", "unet");

    [Fact]
    public void StateDictKeysAndShapesEqualTheReferenceCheckpoint()
    {
        using var model = new UNet2DConditionModel(UNet2DConditionModelConfig.FromFile(Path.Combine(FixtureUNet, "config.json")));
        StateDictAssert.KeysAndShapesEqual(Path.Combine(FixtureUNet, UNet2DModel.WeightsFileName), model);
    }

    [Fact]
    public void ConfigRoundTripsAndSaveLoadKeepsOutputs()
    {
        var text = File.ReadAllText(Path.Combine(FixtureUNet, "config.json"));
        var config = UNet2DConditionModelConfig.FromJson(text);
        Assert.Equal([8], config.AttentionHeadDim!);
        Assert.Equal(config.ToJson(), UNet2DConditionModelConfig.FromJson(config.ToJson()).ToJson());
        Assert.Contains("\"_diffusers_version\"", config.ToJson());

        torch.manual_seed(1);
        using var model = new UNet2DConditionModel(TinyConditionUNet(c => c with { UseLinearProjection = true, TransformerLayersPerBlock = [2, 1] }));
        Perturb(model);
        model.eval();
        model.SavePretrained(Temp);
        using var loaded = UNet2DConditionModel.FromPretrained(Temp);
        Assert.True(loaded.Config.UseLinearProjection);
        Assert.IsType<TorchSharp.Modules.Linear>(((TorchSharp.Modules.ModuleList<nn.Module>)loaded.down_blocks)[0]
            .named_modules().First(m => m.name == "attentions.0.proj_in").module);
        Assert.Contains("down_blocks.0.attentions.0.transformer_blocks.1.ff.net.2.weight", loaded.state_dict().Keys);
        var x = randn(1, 4, 8, 8);
        var s = randn(1, 5, 16);
        using var noGrad = no_grad();
        Assert.True(BitEqual(model.forward(x, tensor(7L), s), loaded.forward(x, tensor(7L), s)));
    }

    [Fact]
    public void LinearProjectionEqualsConvProjectionWithTheSameWeights()
    {
        // use_linear_projection only changes how the 1×1 projections are stored ((C, C) vs (C, C, 1, 1)) and applied
        using var conv = UNet2DConditionModel.FromPretrained(FixtureUNet, ScalarType.Float64);
        using var linear = new UNet2DConditionModel(conv.Config with { UseLinearProjection = true });
        linear.to(ScalarType.Float64).eval();
        var weights = conv.state_dict().ToDictionary(kv => kv.Key,
            kv => kv.Key.Contains(".proj_") && kv.Key.EndsWith(".weight") ? kv.Value.flatten(1) : kv.Value); // (C, C, 1, 1) -> (C, C)
        linear.load_state_dict(weights);
        torch.manual_seed(3);
        var x = randn(2, 4, 16, 16, dtype: ScalarType.Float64);
        var states = randn(2, 5, 32, dtype: ScalarType.Float64);
        using var noGrad = no_grad();
        Assert.True(linear.forward(x, tensor(9L), states).allclose(conv.forward(x, tensor(9L), states), 1e-10, 1e-10));
    }

    [Fact]
    public void OddSizesUpsampleToTheSkipSize()
    {
        torch.manual_seed(2);
        using var model = new UNet2DConditionModel(TinyConditionUNet());
        model.eval();
        using var noGrad = no_grad();
        using var y = model.forward(randn(1, 4, 7, 9), tensor(3L), randn(1, 2, 16));
        Assert.Equal([1L, 4, 7, 9], y.shape);
    }

    [Fact]
    public void UnsupportedFeaturesAreRejectedByName()
    {
        var json = File.ReadAllText(Path.Combine(FixtureUNet, "config.json"));
        var e = Assert.Throws<NotSupportedException>(() => new UNet2DConditionModel(UNet2DConditionModelConfig.FromJson(json.Replace("\"addition_embed_type\": null", "\"addition_embed_type\": \"text\""))));
        Assert.Contains("addition_embed_type", e.Message);
        var d = Assert.Throws<NotSupportedException>(() => new UNet2DConditionModel(UNet2DConditionModelConfig.FromJson(json.Replace("\"dual_cross_attention\": false", "\"dual_cross_attention\": true"))));
        Assert.Contains("dual_cross_attention", d.Message);
        var o = Assert.Throws<NotSupportedException>(() => new UNet2DConditionModel(UNet2DConditionModelConfig.FromJson(json.Replace("\"only_cross_attention\": false", "\"only_cross_attention\": true"))));
        Assert.Contains("only_cross_attention", o.Message);
        var bad = Assert.Throws<InvalidDataException>(() => UNet2DConditionModelConfig.FromJson(json.Replace("\"CrossAttnUpBlock2D\"", "\"SimpleCrossAttnUpBlock2D\"")));
        Assert.Contains("CrossAttnUpBlock2D", bad.Message);
        var heads = Assert.Throws<ArgumentException>(() => new UNet2DConditionModel(TinyConditionUNet(c => c with { AttentionHeadDim = [3] })));
        Assert.Contains("num_attention_heads (3)", heads.Message);
    }

    [Fact]
    public void BadInputsNameExpectedAndActualShapes()
    {
        using var model = new UNet2DConditionModel(TinyConditionUNet());
        var e = Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 3, 8, 8), tensor(1L), zeros(2, 5, 16)));
        Assert.Contains("(B, 4, H, W)", e.Message);
        Assert.Contains("(2, 3, 8, 8)", e.Message);
        var s = Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 4, 8, 8), tensor(1L), zeros(2, 5, 8)));
        Assert.Contains("(2, M, 16)", s.Message);
        Assert.Contains("(2, 5, 8)", s.Message);
        var t = Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 4, 8, 8), tensor(new long[] { 1, 2, 3 }), zeros(2, 5, 16)));
        Assert.Contains("(3)", t.Message);
    }
}
