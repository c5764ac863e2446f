using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Autoencoders;

public sealed class AutoencoderKLTests() : TempFolderTest("sv-akl-")
{
    static string Fixture => FixtureRoot.Combine("vae", "autoencoder_kl_small");

    static AutoencoderKLConfig Small(Func<AutoencoderKLConfig, AutoencoderKLConfig>? edit = null)
    {
        var c = new AutoencoderKLConfig
        {
            InChannels = 1, OutChannels = 1, BlockOutChannels = [8, 16], NormNumGroups = 4, LatentChannels = 2,
            DownBlockTypes = [EncoderBlockType.DownEncoderBlock2D, EncoderBlockType.DownEncoderBlock2D],
            UpBlockTypes = [DecoderBlockType.UpDecoderBlock2D, DecoderBlockType.UpDecoderBlock2D],
        };
        return edit is null ? c : edit(c);
    }

    [Fact]
    public void StateDictKeysAndShapesEqualTheReferenceCheckpoint()
    {
        using var model = new AutoencoderKL(AutoencoderKLConfig.FromFile(Path.Combine(Fixture, AutoencoderKL.ConfigFileName)));
        StateDictAssert.KeysAndShapesEqual(Path.Combine(Fixture, AutoencoderKL.WeightsFileName), model);
    }

    [Fact]
    public void ConfigRoundTripsWithNullsAndUnknownKeys()
    {
        var config = AutoencoderKLConfig.FromJson(File.ReadAllText(Path.Combine(Fixture, AutoencoderKL.ConfigFileName)));
        Assert.Null(config.ShiftFactor);
        Assert.True(config.ForceUpcast);
        Assert.Equal([16], config.SampleSize!);
        Assert.Contains("\"sample_size\": 16", config.ToJson());
        Assert.Equal(config.ToJson(), AutoencoderKLConfig.FromJson(config.ToJson()).ToJson());
    }

    [Fact]
    public void WithoutQuantConvsTheKeysGoAndSaveLoadRoundTrips()
    {
        torch.manual_seed(5);
        using var model = new AutoencoderKL(Small(c => c with { UseQuantConv = false, UsePostQuantConv = false }));
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("quant_conv"));
        model.eval();
        model.SavePretrained(Temp);
        Assert.Contains("\"_class_name\": \"AutoencoderKL\"", File.ReadAllText(Path.Combine(Temp, AutoencoderKL.ConfigFileName)));
        using var loaded = AutoencoderKL.FromPretrained(Temp);
        using var noGrad = torch.no_grad();
        var x = randn(2, 1, 8, 8);
        Assert.True(model.forward(x).eq(loaded.forward(x)).all().item<bool>());
    }

    [Fact]
    public void PosteriorClampsLogVarAndItsKlIsZeroForTheStandardNormal()
    {
        var moments = cat([zeros(1, 2, 2, 2), full(1, 2, 2, 2, 50.0)], 1);
        using var clamped = new DiagonalGaussianDistribution(moments);
        Assert.Equal(20.0, clamped.LogVar.max().item<float>(), 4);
        using var standard = new DiagonalGaussianDistribution(zeros(3, 4, 2, 2));
        Assert.Equal([3L], standard.Kl().shape);
        Assert.Equal(0f, standard.Kl().abs().sum().item<float>());
        using var deterministic = new DiagonalGaussianDistribution(moments, deterministic: true);
        Assert.True(deterministic.Sample(ones(1, 2, 2, 2)).eq(deterministic.Mean).all().item<bool>());
        var e = Assert.Throws<ArgumentException>(() => standard.Sample(ones(3, 4, 2, 2)));
        Assert.Contains("(3, 4, 2, 2)", e.Message);
        Assert.Throws<ArgumentException>(() => new DiagonalGaussianDistribution(zeros(1, 3, 2, 2)));
    }

    [Fact]
    public void DecodeNamesTheExpectedLatentShape()
    {
        using var model = new AutoencoderKL(Small());
        var e = Assert.Throws<ArgumentException>(() => model.Decode(zeros(1, 4, 2, 2)));
        Assert.Contains("(B, 2, h, w)", e.Message);
    }
}
