using System.Text.Json.Nodes;
using SharpVision.Cli.Tour;

namespace SharpVision.Tests.Tour;

/// <summary><c>sharpvision tour</c> on the smoke budget: every section's files and figures, stage reuse, --only and bad options.</summary>
[Collection(Cli.ConsoleCollection.Name)]
public sealed class TourCommandTests(SmokeTourFixture tour) : IClassFixture<SmokeTourFixture>
{
    [Fact]
    public void EverySectionFinishesWithFiguresImagesAndSentences()
    {
        Assert.True(tour.ExitCode == 0, tour.Stderr);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(tour.Dir, TourReport.SummaryFile)))!;
        var stages = summary["stages"]!.AsObject();
        Assert.Equal(TourStages.All.Select(s => s.Id), stages.Select(kv => kv.Key));
        Assert.Empty(summary["not_run"]!.AsArray());
        foreach (var stage in TourStages.All)
        {
            var result = TourReport.LoadStage(tour.Dir, stage.Id);
            Assert.NotNull(result);
            Assert.Equal("smoke", result.Budget);
            Assert.NotEmpty(result.Figures);
            Assert.False(string.IsNullOrWhiteSpace(result.Claim), stage.Id);
            Assert.False(string.IsNullOrWhiteSpace(result.Measured), stage.Id);
            foreach (var image in result.Images)
            {
                var bytes = File.ReadAllBytes(Path.Combine(tour.Dir, image.File));
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            }
        }
        Assert.True(summary["stages"]!["diffusion"]!["figures"]!["eta0_bit_identical"]!.GetValue<bool>());
        Assert.Equal(8, summary["stages"]!["hashtables"]!["figures"]!["examples"]!.AsArray().Count);
        Assert.True(summary["stages"]!["controlnet"]!["figures"]!["zero_conv_identity_bit_equal"]!.GetValue<bool>());
        Assert.Equal(4, summary["stages"]!["controlnet"]!["figures"]!["settings"]!.AsArray().Count); // base alone + three scales
    }

    [Fact]
    public void ARerunReusesFinishedSectionsAndFreshRerunsThem()
    {
        Assert.True(tour.ExitCode == 0, tour.Stderr);
        var stagePath = Path.Combine(tour.Dir, "hashtables", TourReport.StageFile);
        var before = File.ReadAllText(stagePath);
        var (code, _, err) = SmokeTourFixture.Run("tour", "--budget", "smoke", "--out", tour.Dir, "--only", "hashtables");
        Assert.True(code == 0, err);
        Assert.Equal(before, File.ReadAllText(stagePath));
        (code, _, err) = SmokeTourFixture.Run("tour", "--budget", "smoke", "--out", tour.Dir, "--only", "hashtables", "--fresh");
        Assert.True(code == 0, err);
        Assert.NotEqual(before, File.ReadAllText(stagePath));
    }

    [Fact]
    public void OnlyRunsMissingPrerequisitesToo()
    {
        var dir = Directory.CreateTempSubdirectory("sv-tour-only-").FullName;
        try
        {
            var (code, _, err) = SmokeTourFixture.Run("tour", "--budget", "smoke", "--out", dir, "--only", "diffusion");
            Assert.True(code == 0, err);
            Assert.NotNull(TourReport.LoadStage(dir, "crossentropy")); // the classifier FD-FMNIST needs
            Assert.NotNull(TourReport.LoadStage(dir, "diffusion"));
            Assert.Null(TourReport.LoadStage(dir, "sam"));
            Assert.Contains("not run yet", File.ReadAllText(Path.Combine(dir, TourReport.IndexFile)), StringComparison.Ordinal);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("--budget", "huge", "unknown budget 'huge'")]
    [InlineData("--only", "nonsense", "unknown section 'nonsense'")]
    public void BadOptionsNameTheProblemAndExitWith2(string option, string value, string message)
    {
        var (code, _, err) = SmokeTourFixture.Run("tour", "--out", Path.Combine(tour.Dir, "unused"), option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }
}
