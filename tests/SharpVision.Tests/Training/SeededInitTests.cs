using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Nn.Training;

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

public sealed class SeededInitNormLayerTests
{
    /// <summary>
    /// SAM's LayerNorm2d layers sit inside Sequentials (neck.1, neck.3, output_upscaling.1, mask_downscaling.1/.4), so their
    /// parameter names carry no "norm": a name-based rule drew their gains from ±1/√C. The type-based rule keeps them.
    /// </summary>
    [Fact]
    public void EveryNormalizationLayerOfSamKeepsOnesAndZerosWhileOtherWeightsAreDrawn()
    {
        using var model = SharpVision.Tests.Segmentation.Training.TinySam.Build(seed: 3);
        int norms = 0;
        foreach (var (name, m) in model.named_modules())
        {
            if (m is not (SharpVision.Segmentation.Sam.LayerNorm2d or TorchSharp.Modules.LayerNorm)) continue;
            norms++;
            var sd = m.state_dict();
            Assert.True(sd["weight"].eq(1).all().item<bool>(), $"{name}.weight is not all ones");
            Assert.True(sd["bias"].eq(0).all().item<bool>(), $"{name}.bias is not all zeros");
        }
        Assert.True(norms >= 5, $"expected the neck, upscaling and mask-downscaling norms among others; found {norms}");
        Assert.Contains(model.named_modules(), nm => nm.name == "image_encoder.neck.1" && nm.module is SharpVision.Segmentation.Sam.LayerNorm2d);
        var neckConv = model.state_dict()["image_encoder.neck.0.weight"];
        Assert.False(neckConv.eq(neckConv.flatten()[0]).all().item<bool>(), "the neck convolution was not drawn");
    }

    [Fact]
    public void RedrawingOthersIsReproducibleFromTheSeed()
    {
        using var a = SharpVision.Tests.Segmentation.Training.TinySam.Build(seed: 5);
        randn(10);
        using var b = SharpVision.Tests.Segmentation.Training.TinySam.Build(seed: 5);
        var sb = b.state_dict();
        foreach (var (key, t) in a.state_dict())
            Assert.True(t.eq(sb[key]).all().item<bool>(), $"{key} differs between two builds from one seed");
    }
}
