using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Foundation;

public sealed class StateDictTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-statedict-").FullName;

    sealed class Tiny : nn.Module<Tensor, Tensor>
    {
        public readonly TorchSharp.Modules.Linear proj;
        public readonly TorchSharp.Modules.Conv2d conv;
        public Tiny(int hidden) : base(nameof(Tiny))
        {
            proj = nn.Linear(4, hidden);
            conv = nn.Conv2d(1, 2, 3);
            RegisterComponents();
        }
        public override Tensor forward(Tensor x) => proj.forward(x);
    }

    [Fact]
    public void SafetensorsRoundTripKeepsNamesShapesAndValues()
    {
        torch.manual_seed(1);
        var model = new Tiny(3);
        var path = Path.Combine(dir, "m.safetensors");
        StateDict.SaveSafetensors(model.state_dict(), path);
        var loaded = StateDict.LoadSafetensors(path);
        Assert.Equal(model.state_dict().Keys.Order(), loaded.Keys.Order());
        var other = new Tiny(3);
        StateDict.LoadInto(other, loaded, source: path);
        foreach (var (k, v) in model.state_dict()) Assert.True(v.allclose(other.state_dict()[k], rtol: 0, atol: 0), k);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void PyTorchZipRoundTripAndFormatDetection()
    {
        torch.manual_seed(2);
        var model = new Tiny(3);
        var path = Path.Combine(dir, "m.pth");
        StateDict.SavePyTorch(model.state_dict(), path);
        var loaded = StateDict.Load(path);
        foreach (var (k, v) in model.state_dict()) Assert.True(v.allclose(loaded[k], rtol: 0, atol: 0), k);
    }

    [Fact]
    public void ReadsTheReferencesTorchSaveFile()
    {
        // segment-anything's official checkpoints are torch.save'd state_dicts of this form.
        var sd = StateDict.LoadPyTorch(FixtureRoot.Combine("sam", "sam_official_size_decoder", "sam_decoder.pth"));
        Assert.Contains(sd.Keys, k => k.StartsWith("mask_decoder.", StringComparison.Ordinal));
    }

    [Fact]
    public void StrictLoadingReportsEveryMissingUnexpectedAndMisshapedKey()
    {
        var source = new Tiny(5).state_dict();
        source.Remove("conv.bias");
        source["extra.weight"] = zeros(1);
        var target = new Tiny(3);
        var before = target.proj.weight!.clone();
        var e = Assert.Throws<CheckpointMismatchException>(() => StateDict.LoadInto(target, source, source: "ckpt.safetensors"));
        Assert.Equal(["conv.bias"], e.MissingKeys);
        Assert.Equal(["extra.weight"], e.UnexpectedKeys);
        Assert.Equal(2, e.ShapeMismatches.Count);
        Assert.Contains("proj.weight: checkpoint (5, 4) vs model (3, 4)", e.Message);
        Assert.Contains("ckpt.safetensors", e.Message);
        Assert.True(before.allclose(target.proj.weight!, rtol: 0, atol: 0), "nothing is copied when the checkpoint does not fit");
    }

    [Fact]
    public void NonStrictLoadingIgnoresMissingAndUnexpectedButNotShapes()
    {
        var target = new Tiny(3);
        var partial = new Dictionary<string, Tensor> { ["proj.bias"] = ones(3, dtype: ScalarType.Float64), ["other"] = zeros(2) };
        StateDict.LoadInto(target, partial, strict: false);
        Assert.Equal(ScalarType.Float32, target.proj.bias!.dtype);
        Assert.True(target.proj.bias!.allclose(ones(3), rtol: 0, atol: 0));
        Assert.Throws<CheckpointMismatchException>(() => StateDict.LoadInto(target, new Dictionary<string, Tensor> { ["proj.bias"] = ones(4) }, strict: false));
    }

    [Fact]
    public void MissingAndCorruptFilesNameTheFile()
    {
        var missing = Path.Combine(dir, "nope.safetensors");
        var e1 = Assert.Throws<FileNotFoundException>(() => StateDict.Load(missing));
        Assert.Contains(missing, e1.Message);
        var corrupt = Path.Combine(dir, "bad.safetensors");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        var e2 = Assert.Throws<InvalidDataException>(() => StateDict.Load(corrupt));
        Assert.Contains(corrupt, e2.Message);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
