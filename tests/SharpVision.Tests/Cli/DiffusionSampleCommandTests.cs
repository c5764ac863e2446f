using SharpVision.Diffusion.Models;
using SharpVision.Nn.Checkpoints;
using SharpVision.Tests.Diffusion;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class DiffusionSampleCommandTests : IDisposable
{
    readonly DiffusionCliFixture f = new();

    public void Dispose() => f.Dispose();

    string[] Sample(params string[] more) =>
        ["diffusion", "sample", "--model", f.Model, "--scheduler", f.Scheduler, "--steps", "4", "--count", "3", .. more];

    [Fact]
    public void EtaZeroWithTheSameSeedGivesBitIdenticalImages()
    {
        var a = Run(Sample("--seed", "5", "--out", f.PathOf("a.png"), "--tensor", f.PathOf("a.safetensors")));
        var b = Run(Sample("--seed", "5", "--out", f.PathOf("b.png"), "--tensor", f.PathOf("b.safetensors")));
        var c = Run(Sample("--seed", "6", "--out", f.PathOf("c.png"), "--tensor", f.PathOf("c.safetensors")));
        Assert.True(a.Code == 0, a.Err);
        Assert.Equal(0, b.Code);
        Assert.Equal(0, c.Code);
        var ta = StateDict.LoadSafetensors(f.PathOf("a.safetensors"))["samples"];
        var tb = StateDict.LoadSafetensors(f.PathOf("b.safetensors"))["samples"];
        var tc = StateDict.LoadSafetensors(f.PathOf("c.safetensors"))["samples"];
        Assert.Equal([3L, 1, 32, 32], ta.shape);
        Assert.True(TinyDiffusion.Same(ta, tb));
        Assert.False(TinyDiffusion.Same(ta, tc));
        Assert.Equal(File.ReadAllBytes(f.PathOf("a.png")), File.ReadAllBytes(f.PathOf("b.png")));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(f.PathOf("a.png")).Take(4));
    }

    [Fact]
    public void DdpmSamplerWritesAGrid()
    {
        var r = Run(Sample("--sampler", "ddpm", "--steps", "10", "--count", "1", "--out", f.PathOf("ddpm.png")));
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(f.PathOf("ddpm.png")));
    }

    [Theory]
    [InlineData("dpm++2m-karras")]
    [InlineData("heun")]
    public void AnyNamedSchedulerSamplesTheModelReproducibly(string name)
    {
        var a = Run(Sample("--sampler", name, "--steps", "4", "--count", "2", "--out", f.PathOf($"{name}-a.png")));
        Assert.True(a.Code == 0, a.Err);
        var b = Run(Sample("--sampler", name, "--steps", "4", "--count", "2", "--out", f.PathOf($"{name}-b.png")));
        Assert.True(b.Code == 0, b.Err);
        Assert.Equal(File.ReadAllBytes(f.PathOf($"{name}-a.png")), File.ReadAllBytes(f.PathOf($"{name}-b.png")));
        var ddim = Run(Sample("--steps", "4", "--count", "2", "--out", f.PathOf($"{name}-ddim.png")));
        Assert.Equal(0, ddim.Code);
        Assert.NotEqual(File.ReadAllBytes(f.PathOf($"{name}-a.png")), File.ReadAllBytes(f.PathOf($"{name}-ddim.png")));
    }

    [Fact]
    public void ClassConditionalModelTakesClassAndGuidance()
    {
        using var cond = new DiffusionCliFixture(numClassEmbeds: 11);
        var r = Run("diffusion", "sample", "--model", cond.Model, "--scheduler", cond.Scheduler, "--steps", "3", "--count", "2",
            "--class", "7", "--guidance", "3", "--out", cond.PathOf("g.png"));
        Assert.True(r.Code == 0, r.Err);
        var bad = Run("diffusion", "sample", "--model", cond.Model, "--scheduler", cond.Scheduler, "--class", "11", "--out", cond.PathOf("x.png"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("0..9", bad.Err);
    }

    [Fact]
    public void MissingWeightsFileIsNamed()
    {
        File.Delete(Path.Combine(f.Model, UNet2DModel.WeightsFileName));
        var r = Run(Sample("--out", f.PathOf("x.png")));
        Assert.Equal(2, r.Code);
        Assert.Contains(UNet2DModel.WeightsFileName, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void MissingConfigFileIsNamed()
    {
        File.Delete(Path.Combine(f.Model, UNet2DModel.ConfigFileName));
        var r = Run(Sample("--out", f.PathOf("x.png")));
        Assert.Equal(2, r.Code);
        Assert.Contains(UNet2DModel.ConfigFileName, r.Err);
    }

    [Fact]
    public void MismatchedTensorNamesTheFileAndTheKey()
    {
        var weights = Path.Combine(f.Model, UNet2DModel.WeightsFileName);
        var sd = StateDict.LoadSafetensors(weights);
        sd["conv_in.weight"] = TorchSharp.torch.zeros(4, 1, 3, 3);
        StateDict.SaveSafetensors(sd, weights);
        var r = Run(Sample("--out", f.PathOf("x.png")));
        Assert.Equal(2, r.Code);
        Assert.Contains(weights, r.Err);
        Assert.Contains("conv_in.weight", r.Err);
        Assert.Contains("(4, 1, 3, 3)", r.Err);
    }

    [Fact]
    public void ASizeNotFittingTheModelGivesBothShapes()
    {
        var r = Run(Sample("--size", "31", "--out", f.PathOf("x.png")));
        Assert.Equal(2, r.Code);
        Assert.Contains("(B, 1, H, W) with H and W multiples of 2", r.Err);
        Assert.Contains("(3, 1, 31, 31)", r.Err);
    }

    [Fact]
    public void BadOptionsAreUsageErrors()
    {
        var sampler = Run(Sample("--sampler", "euler9"));
        Assert.Equal(2, sampler.Code);
        Assert.Contains("unknown scheduler 'euler9'", sampler.Err);
        Assert.Contains("dpm++2m-karras", sampler.Err);
        var steps = Run(Sample("--steps", "51"));
        Assert.Equal(2, steps.Code);
        Assert.Contains("--steps", steps.Err);
        var unknown = Run(Sample("--step", "5"));
        Assert.Equal(2, unknown.Code);
        Assert.Contains("--step", unknown.Err);
        var cls = Run(Sample("--class", "1"));
        Assert.Equal(2, cls.Code);
        Assert.Contains("not class-conditional", cls.Err);
    }
}
