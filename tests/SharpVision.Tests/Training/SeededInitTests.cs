using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

public sealed class SeededInitTests
{
    [Fact]
    public void TheSeedAloneFixesTheWeightsWhateverTheGlobalGenerator()
    {
        using var a = new VQModel(VQVAETrainerTests.Tiny);
        using var b = new VQModel(VQVAETrainerTests.Tiny);
        using (var g = new Generator(7)) SeededInit.Apply(a, g);
        randn(100); // the global generator moves on in between
        using (var g = new Generator(7)) SeededInit.Apply(b, g);
        var sa = a.state_dict();
        var sb = b.state_dict();
        foreach (var (key, t) in sa)
            if (!key.StartsWith("quantize.", StringComparison.Ordinal)) // the codebook is drawn by the quantizer's own generator
                Assert.True(t.eq(sb[key]).all().item<bool>(), $"{key} differs");
    }

    [Fact]
    public void WeightsAndBiasesFollowTorchDefaultBounds()
    {
        using var model = new VQModel(VQVAETrainerTests.Tiny);
        using (var g = new Generator(1)) SeededInit.Apply(model, g);
        var w = model.encoder.conv_in.weight!; // (8, 1, 3, 3): fan_in 9, bound 1/3
        Assert.True(w.abs().max().item<float>() <= 1.0 / 3 + 1e-7);
        Assert.True(w.abs().max().item<float>() > 0.2, "weights not spread over the bound");
        var bias = model.quant_conv.bias!; // fan_in 3
        Assert.True(bias.abs().max().item<float>() <= 1 / Math.Sqrt(3) + 1e-7);
        Assert.True(model.encoder.conv_norm_out.weight!.eq(1).all().item<bool>(), "norm weights were touched");
    }
}
