using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Blocks;
using static SharpVision.Tests.ControlNet.ControlNetTestModels;

namespace SharpVision.Tests.ControlNet;

public sealed class UNet2DControlNetTests
{
    static (Tensor Sample, Tensor Timestep, Tensor Cond) Inputs(ScalarType dtype = ScalarType.Float32)
    {
        torch.manual_seed(21);
        return (randn(2, 1, 8, 8, dtype: dtype), tensor(new long[] { 3, 700 }), rand(2, 3, 16, 16, dtype: dtype));
    }

    [Fact]
    public void HasTheEncoderKeysOfTheUNetPlusTheControlParts()
    {
        using var unet = new UNet2DModel(TinyUNet());
        using var controlnet = UNet2DControlNet.FromUNet(unet, CondStages);
        var keys = controlnet.state_dict().Keys.ToHashSet();
        var encoder = unet.state_dict().Keys.Where(k => !k.StartsWith("up_blocks.") && !k.StartsWith("conv_norm_out.") && !k.StartsWith("conv_out."));
        Assert.Subset(keys, encoder.ToHashSet());
        Assert.DoesNotContain(keys, k => k.StartsWith("up_blocks.") || k.StartsWith("conv_out."));
        Assert.Equal(unet.NumSkipStates, controlnet.controlnet_down_blocks.Count);
        Assert.Contains("controlnet_mid_block.weight", keys);
        Assert.Contains("controlnet_cond_embedding.conv_out.weight", keys);
    }

    [Theory]
    [InlineData(ScalarType.Float32, false)]
    [InlineData(ScalarType.Float64, false)]
    [InlineData(ScalarType.Float32, true)]
    public void FreshControlNetLeavesTheOutputBitForBitUnchanged(ScalarType dtype, bool classConditional)
    {
        torch.manual_seed(1);
        using var unet = new UNet2DModel(TinyUNet(c => classConditional ? c with { NumClassEmbeds = 3 } : c));
        unet.to(dtype).eval();
        using var controlnet = UNet2DControlNet.FromUNet(unet, CondStages);
        var (sample, t, cond) = Inputs(dtype);
        var labels = classConditional ? tensor(new long[] { 0, 2 }) : null;
        using var noGrad = no_grad();
        var r = controlnet.Forward(sample, t, cond, labels, 1.3);
        Assert.All(r.DownBlockResSamples, x => Assert.True(AllZero(x)));
        Assert.True(BitEqual(unet.forward(sample, t, labels), controlnet.Apply(unet, sample, t, cond, labels, 1.3)));
    }

    [Fact]
    public void TrainedControlNetChangesTheOutputByItsScaledResiduals()
    {
        torch.manual_seed(2);
        using var unet = new UNet2DModel(TinyUNet());
        unet.eval();
        using var controlnet = UNet2DControlNet.FromUNet(unet, CondStages);
        Perturb(controlnet);
        controlnet.eval();
        var (sample, t, cond) = Inputs();
        using var noGrad = no_grad();
        var full = controlnet.Forward(sample, t, cond);
        var half = controlnet.Forward(sample, t, cond, conditioningScale: 0.5);
        Assert.True(half.MidBlockResSample.allclose(full.MidBlockResSample * 0.5, 1e-6, 1e-7));
        Assert.False(controlnet.Apply(unet, sample, t, cond).allclose(unet.forward(sample, t, null), 1e-4, 1e-4));
        // two nets: residuals summed, each at its own scale
        using var second = UNet2DControlNet.FromUNet(unet, CondStages);
        Perturb(second);
        second.eval();
        using var multi = new MultiUNet2DControlNet([controlnet, second]);
        var sum = multi.Forward(sample, t, [cond, cond.flip(3)], [0.5, 2.0]);
        var expected = half.Add(second.Forward(sample, t, cond.flip(3), conditioningScale: 2.0));
        Assert.True(BitEqual(expected.MidBlockResSample, sum.MidBlockResSample));
        Assert.True(BitEqual(expected.DownBlockResSamples[^1], sum.DownBlockResSamples[^1]));
        Assert.True(multi.Apply(unet, sample, t, [cond, cond], [0.5, 0.0]).allclose(controlnet.Apply(unet, sample, t, cond, null, 0.5), 1e-6, 1e-6));
    }

    [Fact]
    public void TrainingMovesZeroConvsFirstThenTheCopyAndNeverTheLockedUNet()
    {
        torch.manual_seed(3);
        using var unet = new UNet2DModel(TinyUNet());
        Perturb(unet);
        foreach (var p in unet.parameters()) p.requires_grad = false;
        var locked = unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var controlnet = UNet2DControlNet.FromUNet(unet, CondStages);
        var zeroConvs = controlnet.controlnet_down_blocks.Cast<ZeroConv>().Append(controlnet.controlnet_mid_block).ToList();
        var copy = controlnet.down_blocks.parameters().Concat(controlnet.mid_block!.parameters()).ToList();
        using var opt = optim.SGD(controlnet.parameters(), 0.05);
        var (sample, t, cond) = Inputs();
        var target = randn(2, 1, 8, 8);
        Tensor Loss() => nn.functional.mse_loss(controlnet.Apply(unet, sample, t, cond), target);

        opt.zero_grad();
        Loss().backward();
        Assert.All(zeroConvs, z => Assert.True(HasNonZeroGrad(z.weight)));
        Assert.All(copy, p => Assert.False(HasNonZeroGrad(p)));
        opt.step();
        Assert.All(zeroConvs, z => Assert.False(AllZero(z.weight)));

        opt.zero_grad();
        Loss().backward();
        Assert.Contains(copy, p => HasNonZeroGrad(p));
        // the condition embedding's zero output layer only moves now, so its inner layers learn from step 3 on
        Assert.True(HasNonZeroGrad(controlnet.controlnet_cond_embedding.conv_out.weight));
        Assert.False(HasNonZeroGrad(controlnet.controlnet_cond_embedding.conv_in.weight));
        opt.step();
        for (int i = 0; i < 2; i++)
        {
            opt.zero_grad();
            Loss().backward();
            Assert.True(HasNonZeroGrad(controlnet.controlnet_cond_embedding.conv_in.weight));
            opt.step();
        }
        foreach (var (key, value) in unet.state_dict())
            Assert.True(BitEqual(locked[key], value), $"locked UNet weight {key} changed");
        Assert.All(unet.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void TheDroppedTemplateUNetDoesNotTakeTheSharedEncoderWithIt()
    {
        // the constructor builds a throw-away UNet2DModel and keeps its encoder; collecting the rest must leave that intact
        torch.manual_seed(5);
        using var controlnet = new UNet2DControlNet(TinyUNet(), CondStages);
        var before = controlnet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        var (sample, t, cond) = Inputs();
        using var noGrad = no_grad();
        Assert.Equal(4, controlnet.Forward(sample, t, cond).DownBlockResSamples.Count);
        foreach (var (key, value) in controlnet.state_dict()) Assert.True(BitEqual(before[key], value), key);
    }

    [Fact]
    public void SaveThenLoadGivesIdenticalResiduals()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sv-u2dcn-" + Guid.NewGuid().ToString("N"));
        try
        {
            torch.manual_seed(6);
            using var controlnet = new UNet2DControlNet(TinyUNet(c => c with { NumClassEmbeds = 2 }), CondStages, conditioningChannels: 1);
            Perturb(controlnet);
            controlnet.eval();
            controlnet.SavePretrained(dir);
            var json = File.ReadAllText(Path.Combine(dir, "config.json"));
            Assert.Contains("\"_class_name\": \"UNet2DControlNet\"", json);
            Assert.Contains("\"conditioning_channels\": 1", json);
            using var loaded = UNet2DControlNet.FromPretrained(dir);
            Assert.Equal(CondStages, loaded.ConditioningEmbeddingOutChannels);
            Assert.False(loaded.UNetConfig.Extra?.ContainsKey("conditioning_channels") ?? false); // moved out of the UNet config
            torch.manual_seed(7);
            var sample = randn(2, 1, 8, 8);
            var cond = rand(2, 1, 16, 16);
            var labels = tensor(new long[] { 1, 0 });
            using var noGrad = no_grad();
            var a = controlnet.Forward(sample, tensor(5L), cond, labels);
            var b = loaded.Forward(sample, tensor(5L), cond, labels);
            Assert.True(BitEqual(a.MidBlockResSample, b.MidBlockResSample));
            Assert.True(BitEqual(a.DownBlockResSamples[0], b.DownBlockResSamples[0]));
            Assert.Throws<InvalidDataException>(() => ControlNetModel.FromPretrained(dir));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BadInputsNameBothSides()
    {
        torch.manual_seed(4);
        using var unet = new UNet2DModel(TinyUNet());
        using var controlnet = UNet2DControlNet.FromUNet(unet, CondStages);
        var (sample, t, cond) = Inputs();

        var size = Assert.Throws<ArgumentException>(() => controlnet.Forward(sample, t, zeros(2, 3, 8, 8)));
        Assert.Contains("(2, 3, 16, 16)", size.Message);
        Assert.Contains("(2, 3, 8, 8)", size.Message);
        var channels = Assert.Throws<ArgumentException>(() => controlnet.Forward(sample, t, zeros(2, 4, 16, 16)));
        Assert.Contains("(2, 4, 16, 16)", channels.Message);
        Assert.Contains("conditioning_channels 3", channels.Message);

        using var other = new UNet2DModel(TinyUNet(c => c with { LayersPerBlock = 2 }));
        var config = Assert.Throws<ArgumentException>(() => controlnet.Apply(other, sample, t, cond));
        Assert.Contains("layers_per_block 1", config.Message);
        Assert.Contains("UNet's 2", config.Message);

        using var noGrad = no_grad();
        var r = controlnet.Forward(sample, t, cond);
        var count = Assert.Throws<ArgumentException>(() => other.Forward(sample, t, null, r.DownBlockResSamples, r.MidBlockResSample));
        Assert.Contains($"{r.DownBlockResSamples.Count} residuals", count.Message);
        Assert.Contains($"{other.NumSkipStates} skip states", count.Message);
        var onlyMid = Assert.Throws<ArgumentException>(() => unet.Forward(sample, t, null, null, r.MidBlockResSample));
        Assert.Contains("together", onlyMid.Message);
        var shifted = r.DownBlockResSamples.Skip(1).Append(r.DownBlockResSamples[0]).ToList();
        var shape = Assert.Throws<ArgumentException>(() => unet.Forward(sample, t, null, shifted, r.MidBlockResSample));
        Assert.Contains("downBlockAdditionalResiduals[", shape.Message);
    }
}
