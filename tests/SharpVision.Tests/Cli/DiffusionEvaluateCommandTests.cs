using SharpVision.Tests.Diffusion;
using static SharpVision.Tests.Cli.DiffusionCliFixture;

namespace SharpVision.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class DiffusionEvaluateCommandTests : IDisposable
{
    readonly DiffusionCliFixture f = new(numClassEmbeds: 11);

    public void Dispose() => f.Dispose();

    [Fact]
    public void RunsEndToEndOnAHandfulOfSamplesAndReusesTheClassifier()
    {
        string outDir = f.PathOf("eval"), classifier = f.PathOf("clf");
        string[] args = ["diffusion", "evaluate", "--model", f.Model, "--scheduler", f.Scheduler, "--samples", "4", "--batch", "4",
            "--steps", "2,3", "--ddpm-steps", "5", "--invert", "2", "--invert-steps", "3", "--classifier-images", "128",
            "--classifier", classifier, "--out", outDir];
        var r = Run(args);
        Assert.True(r.Code == 0, r.Err);
        var csv = File.ReadAllLines(Path.Combine(outDir, "evaluation.csv"));
        Assert.Equal("sampler,eta,steps,fd_fmnist,seconds_per_sample,samples,model_calls", csv[0]);
        // DDIM eta 0 and 1 at 2 and 3 steps, DDPM, real vs real.
        Assert.Equal(1 + 4 + 1 + 1, csv.Length);
        Assert.StartsWith("DDPM,1,5,", csv[5]);
        var md = File.ReadAllText(Path.Combine(outDir, "evaluation.md"));
        Assert.Contains("not** Inception FID", md);
        Assert.Contains("bit-identical", md);
        Assert.Contains("round-trip RMS error", md);
        Assert.True(File.Exists(Path.Combine(outDir, "samples.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "inversion.png")));
        Assert.True(File.Exists(Path.Combine(classifier, "classifier.safetensors")));

        // Second run loads the saved classifier instead of training.
        var again = Run(args);
        Assert.True(again.Code == 0, again.Err);
    }

    [Fact]
    public void SolversRunAtModelCallBudgetsAndUnknownOnesFailFirst()
    {
        string outDir = f.PathOf("solvers"), classifier = f.PathOf("clf2");
        var r = Run("diffusion", "evaluate", "--model", f.Model, "--scheduler", f.Scheduler, "--samples", "4", "--batch", "4",
            "--steps", "2", "--ddpm-steps", "0", "--invert", "0", "--classifier-images", "128", "--classifier", classifier,
            "--solvers", "heun,dpm++2m", "--calls", "3,5", "--out", outDir);
        Assert.True(r.Code == 0, r.Err);
        var rows = File.ReadAllLines(Path.Combine(outDir, "evaluation.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        // DDIM eta 0 and 1 at 2 steps, then Heun at 3 and 5 calls (2 and 3 steps), DPM-Solver++ at 3 and 5 calls, real vs real.
        Assert.Equal(["DDIM", "DDIM", "heun (3 calls)", "heun (5 calls)", "dpm++2m (3 calls)", "dpm++2m (5 calls)", "real_vs_real"], rows.Select(c => c[0]));
        Assert.Equal(["2", "3", "3", "5"], rows.Skip(2).Take(4).Select(c => c[2]));
        Assert.Equal(["2", "2", "3", "5", "3", "5"], rows.Take(6).Select(c => c[6]));
        Assert.True(new FileInfo(Path.Combine(outDir, "fd-vs-calls.png")).Length > 1000);

        var bad = Run("diffusion", "evaluate", "--model", f.Model, "--scheduler", f.Scheduler, "--solvers", "euler,nope", "--out", outDir);
        Assert.Equal(2, bad.Code);
        Assert.Contains("unknown scheduler 'nope'", bad.Err);
    }
}
