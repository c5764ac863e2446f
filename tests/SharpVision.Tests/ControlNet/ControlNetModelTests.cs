using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Nn.Checkpoints;
using static SharpVision.Tests.ControlNet.ControlNetTestModels;

namespace SharpVision.Tests.ControlNet;

public sealed class ControlNetModelTests() : TempFolderTest("sv-cnet-")
{
    static string Fixture(string name, string part) => FixtureRoot.Combine("controlnet", name, part);

    /// <summary>(sample 8×8, timesteps, encoder states, condition 16×16) for <see cref="ControlNetTestModels.TinyConditionUNet"/>.</summary>
    static (Tensor Sample, Tensor Timestep, Tensor States, Tensor Cond) Inputs(long batch = 2, ScalarType dtype = ScalarType.Float32)
    {
        torch.manual_seed(11);
        return (randn(batch, 4, 8, 8, dtype: dtype), tensor(new long[] { 10, 500 }.Take((int)batch).ToArray()),
            randn(batch, 3, 16, dtype: dtype), rand(batch, 3, 16, 16, dtype: dtype));
    }

    [Fact]
    public void FromUNetCopiesTheEncoderLikeDiffusers()
    {
        // The fixture's controlnet_fresh folder is diffusers' from_unet of its unet folder: every copied weight must equal ours.
        using var unet = UNet2DConditionModel.FromPretrained(Fixture("controlnet_fresh", "unet"));
        using var controlnet = ControlNetModel.FromUNet(unet, [16, 32]);
        var reference = StateDict.LoadSafetensors(Fixture("controlnet_fresh", "controlnet") + "/" + UNet2DModel.WeightsFileName);
        var ours = controlnet.state_dict();
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, t) in reference)
        {
            Assert.True(t.shape.SequenceEqual(ours[key].shape), key);
            if (key.StartsWith("controlnet_cond_embedding.", StringComparison.Ordinal) && !key.Contains("conv_out")) continue; // random init
            Assert.True(BitEqual(t, ours[key]), $"{key} differs from diffusers' from_unet");
        }
        Assert.True(AllZero(controlnet.controlnet_cond_embedding.conv_out.weight));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void FreshControlNetLeavesTheOutputBitForBitUnchanged(ScalarType dtype)
    {
        torch.manual_seed(1);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        unet.to(dtype).eval();
        using var controlnet = ControlNetModel.FromUNet(unet, CondStages);
        Assert.Equal(dtype, controlnet.Dtype);
        var (sample, t, states, cond) = Inputs(dtype: dtype);
        using var noGrad = no_grad();
        var r = controlnet.Forward(sample, t, states, cond, conditioningScale: 0.8);
        Assert.Equal(unet.NumDownResiduals, r.DownBlockResSamples.Count);
        Assert.All(r.DownBlockResSamples, x => Assert.True(AllZero(x)));
        var baseOut = unet.forward(sample, t, states);
        Assert.True(BitEqual(baseOut, controlnet.Apply(unet, sample, t, states, cond, 0.8)));
    }

    [Fact]
    public void DiffusersFreshControlNetLeavesTheFixtureUNetBitForBitUnchanged()
    {
        using var unet = UNet2DConditionModel.FromPretrained(Fixture("controlnet_fresh", "unet"));
        using var controlnet = ControlNetModel.FromPretrained(Fixture("controlnet_fresh", "controlnet"));
        var tensors = StateDict.LoadSafetensors(FixtureRoot.Combine("controlnet", "controlnet_fresh", "tensors.safetensors"));
        var (sample, t, states, cond) = (tensors["sample"], tensors["timestep"], tensors["encoder_hidden_states"], tensors["controlnet_cond"]);
        using var noGrad = no_grad();
        Assert.True(BitEqual(unet.forward(sample, t, states), controlnet.Apply(unet, sample, t, states, cond)));
    }

    [Fact]
    public void SavePretrainedWritesDiffusersKeysAndLoadsBackIdentically()
    {
        using var reference = ControlNetModel.FromPretrained(Fixture("controlnet_trained", "controlnet"));
        reference.SavePretrained(Temp);
        var json = File.ReadAllText(Path.Combine(Temp, "config.json"));
        Assert.Contains("\"_class_name\": \"ControlNetModel\"", json);
        Assert.Contains("\"controlnet_conditioning_channel_order\": \"rgb\"", json);
        Assert.Contains("\"attention_head_dim\": 8", json);
        var original = StateDict.LoadSafetensors(Fixture("controlnet_trained", "controlnet") + "/" + UNet2DModel.WeightsFileName);
        var written = StateDict.LoadSafetensors(Path.Combine(Temp, UNet2DModel.WeightsFileName));
        Assert.Equal(original.Keys.Order(StringComparer.Ordinal), written.Keys.Order(StringComparer.Ordinal));
        Assert.All(original, kv => Assert.True(BitEqual(kv.Value, written[kv.Key]), kv.Key));
        // the config round-trips key for key (unknown keys such as _diffusers_version kept)
        var a = ControlNetModelConfig.FromFile(Fixture("controlnet_trained", "controlnet") + "/config.json");
        var b = ControlNetModelConfig.FromFile(Path.Combine(Temp, "config.json"));
        Assert.Equal(a.ToJson(), b.ToJson());
    }

    [Fact]
    public void TrainingMovesZeroConvsFirstThenTheCopyAndNeverTheLockedUNet()
    {
        torch.manual_seed(2);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        Perturb(unet); // non-trivial base weights
        foreach (var p in unet.parameters()) p.requires_grad = false;
        var locked = unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var controlnet = ControlNetModel.FromUNet(unet, CondStages);
        controlnet.train();
        var zeroConvs = controlnet.controlnet_down_blocks.Cast<ZeroConv>().Append(controlnet.controlnet_mid_block).ToList();
        var copy = controlnet.down_blocks.parameters().Concat(controlnet.conv_in.parameters()).ToList();
        using var opt = optim.SGD(controlnet.parameters(), 0.05);
        var (sample, t, states, cond) = Inputs();
        var target = randn(2, 4, 8, 8);

        Tensor Loss()
        {
            var r = controlnet.Forward(sample, t, states, cond);
            return nn.functional.mse_loss(unet.Forward(sample, t, states, r.DownBlockResSamples, r.MidBlockResSample), target);
        }

        // step 1: only the zero convolutions on the residuals get gradient (input × upstream); nothing flows through them
        opt.zero_grad();
        Loss().backward();
        Assert.All(zeroConvs, z => Assert.True(HasNonZeroGrad(z.weight), "zero conv weight gradient is zero"));
        Assert.All(copy, p => Assert.False(HasNonZeroGrad(p)));
        Assert.False(HasNonZeroGrad(controlnet.controlnet_cond_embedding.conv_out.weight));
        opt.step();
        Assert.All(zeroConvs, z => Assert.False(AllZero(z.weight), "zero conv weight still zero after the first step"));
        Assert.True(AllZero(controlnet.controlnet_cond_embedding.conv_out.weight));

        // step 2: the trainable copy and the condition embedding's output now receive gradient
        opt.zero_grad();
        Loss().backward();
        Assert.Contains(copy, p => HasNonZeroGrad(p));
        Assert.True(HasNonZeroGrad(controlnet.controlnet_cond_embedding.conv_out.weight));
        opt.step();
        for (int i = 0; i < 2; i++)
        {
            opt.zero_grad();
            Loss().backward();
            opt.step();
        }

        // the locked UNet never changed and never accumulated gradient
        foreach (var (key, value) in unet.state_dict())
            Assert.True(BitEqual(locked[key], value), $"locked UNet weight {key} changed");
        Assert.All(unet.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void ConditionImageOfTheWrongSizeOrChannelsNamesBothShapes()
    {
        torch.manual_seed(3);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        using var controlnet = ControlNetModel.FromUNet(unet, CondStages);
        var (sample, t, states, _) = Inputs();
        var small = Assert.Throws<ArgumentException>(() => controlnet.Forward(sample, t, states, zeros(2, 3, 8, 8)));
        Assert.Equal("controlnetCond", small.ParamName);
        Assert.Contains("(2, 3, 16, 16)", small.Message);
        Assert.Contains("(2, 3, 8, 8)", small.Message);
        Assert.Contains("(2, 4, 8, 8)", small.Message);
        var gray = Assert.Throws<ArgumentException>(() => controlnet.Forward(sample, t, states, zeros(2, 1, 16, 16)));
        Assert.Contains("(2, 3, 16, 16)", gray.Message);
        Assert.Contains("(2, 1, 16, 16)", gray.Message);
        var badStates = Assert.Throws<ArgumentException>(() => controlnet.Forward(sample, t, zeros(2, 3, 7), zeros(2, 3, 16, 16)));
        Assert.Contains("(2, M, 16)", badStates.Message);
    }

    [Fact]
    public void ControlNetOfAnotherUNetConfigurationIsRejectedNamingBoth()
    {
        torch.manual_seed(4);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        using var other = new UNet2DConditionModel(TinyConditionUNet(c => c with { BlockOutChannels = [16, 24] }));
        using var controlnet = ControlNetModel.FromUNet(other, CondStages);
        var (sample, t, states, cond) = Inputs();
        var e = Assert.Throws<ArgumentException>(() => controlnet.Apply(unet, sample, t, states, cond));
        Assert.Contains("[16, 24]", e.Message);
        Assert.Contains("[16, 32]", e.Message);
        using var wider = new UNet2DConditionModel(TinyConditionUNet(c => c with { BlockOutChannels = [16, 24], CrossAttentionDim = 8 }));
        using var twoApart = ControlNetModel.FromUNet(wider, CondStages);
        var both = Assert.Throws<ArgumentException>(() => twoApart.RequireCompatible(unet)); // every differing setting, both values
        Assert.Contains("block_out_channels [16, 24] differs from the UNet's [16, 32]; cross_attention_dim 8 differs from the UNet's 16", both.Message);
        // without the explicit check, the residual shapes still fail with both sides named
        Perturb(controlnet);
        using var noGrad = no_grad();
        var r = controlnet.Forward(sample, t, states, cond);
        var shape = Assert.Throws<ArgumentException>(() => unet.Forward(sample, t, states, r.DownBlockResSamples, r.MidBlockResSample));
        Assert.Contains("(2, 32, 4, 4)", shape.Message);
        Assert.Contains("(2, 24, 4, 4)", shape.Message);
    }

    [Fact]
    public void ResidualCountsThatDoNotMatchAreRejectedNamingBoth()
    {
        torch.manual_seed(5);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        using var controlnet = ControlNetModel.FromUNet(unet, CondStages);
        var (sample, t, states, cond) = Inputs();
        using var noGrad = no_grad();
        var r = controlnet.Forward(sample, t, states, cond);
        var fewer = r.DownBlockResSamples.Take(3).ToList();
        var e = Assert.Throws<ArgumentException>(() => unet.Forward(sample, t, states, fewer, r.MidBlockResSample));
        Assert.Contains("3 residuals", e.Message);
        Assert.Contains("4 skip states", e.Message);
        var onlyDown = Assert.Throws<ArgumentException>(() => unet.Forward(sample, t, states, r.DownBlockResSamples, null));
        Assert.Contains("together", onlyDown.Message);
        var bad = Assert.Throws<ArgumentException>(() => unet.Forward(sample, t, states, r.DownBlockResSamples, zeros(2, 32, 2, 2)));
        Assert.Contains("(2, 32, 4, 4)", bad.Message);
        Assert.Contains("(2, 32, 2, 2)", bad.Message);
    }

    [Fact]
    public void MultiControlNetSumsEachNetsScaledResiduals()
    {
        torch.manual_seed(6);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        unet.eval();
        var a = ControlNetModel.FromUNet(unet, CondStages);
        var b = ControlNetModel.FromUNet(unet, CondStages, conditioningChannels: 1);
        Perturb(a);
        Perturb(b);
        using var multi = new MultiControlNetModel([a, b]);
        multi.eval();
        Assert.Contains("nets.1.controlnet_mid_block.weight", multi.state_dict().Keys);
        var (sample, t, states, cond) = Inputs();
        var gray = rand(2, 1, 16, 16);
        using var noGrad = no_grad();
        var sum = multi.Forward(sample, t, states, [cond, gray], [0.5, 1.5]);
        var ra = a.Forward(sample, t, states, cond, 0.5);
        var rb = b.Forward(sample, t, states, gray, 1.5);
        for (int i = 0; i < sum.DownBlockResSamples.Count; i++)
            Assert.True(BitEqual(ra.DownBlockResSamples[i] + rb.DownBlockResSamples[i], sum.DownBlockResSamples[i]), $"down residual {i}");
        Assert.True(BitEqual(ra.MidBlockResSample + rb.MidBlockResSample, sum.MidBlockResSample));
        // a zero scale switches a net off
        var onlyA = multi.Apply(unet, sample, t, states, [cond, gray], [0.5, 0.0]);
        Assert.True(onlyA.allclose(a.Apply(unet, sample, t, states, cond, 0.5), 1e-6, 1e-6));
        var e = Assert.Throws<ArgumentException>(() => multi.Forward(sample, t, states, [cond], [1.0, 1.0]));
        Assert.Contains("1 condition images for 2 ControlNets", e.Message);
        var s = Assert.Throws<ArgumentException>(() => multi.Forward(sample, t, states, [cond, gray], [1.0]));
        Assert.Contains("1 scales for 2 ControlNets", s.Message);
    }

    [Fact]
    public void GuessModeScalesResidualsFromATenthToOne()
    {
        torch.manual_seed(7);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        using var controlnet = ControlNetModel.FromUNet(unet, CondStages);
        Perturb(controlnet);
        controlnet.eval();
        var (sample, t, states, cond) = Inputs();
        using var noGrad = no_grad();
        var plain = controlnet.Forward(sample, t, states, cond);
        var guess = controlnet.Forward(sample, t, states, cond, 2.0, guessMode: true);
        int n = plain.DownBlockResSamples.Count;
        for (int i = 0; i < n; i++)
            Assert.True(guess.DownBlockResSamples[i].allclose(plain.DownBlockResSamples[i] * (2.0 * Math.Pow(10, -1.0 + (double)i / n)), 1e-5, 1e-6), $"residual {i}");
        Assert.True(guess.MidBlockResSample.allclose(plain.MidBlockResSample * 2.0, 1e-5, 1e-6));
    }

    [Fact]
    public void BgrConditionImagesAreFlippedToRgb()
    {
        torch.manual_seed(8);
        using var unet = new UNet2DConditionModel(TinyConditionUNet());
        using var rgb = ControlNetModel.FromUNet(unet, CondStages);
        Perturb(rgb);
        using var bgr = new ControlNetModel(rgb.Config with { ControlNetConditioningChannelOrder = ConditioningChannelOrder.Bgr });
        bgr.load_state_dict(rgb.state_dict());
        rgb.eval();
        bgr.eval();
        var (sample, t, states, cond) = Inputs();
        using var noGrad = no_grad();
        Assert.True(BitEqual(rgb.Forward(sample, t, states, cond).MidBlockResSample, bgr.Forward(sample, t, states, cond.flip(1)).MidBlockResSample));
    }
}
