using System.Diagnostics;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Classifier;

namespace SharpVision.Experiments.Diffusion;

/// <summary>What <see cref="DiffusionEvaluation.Run"/> measures.</summary>
/// <param name="Samples">Generated images per sampler setting.</param>
/// <param name="DdimSteps">DDIM step counts (capped at num_train_timesteps), each run with eta 0 and eta 1.</param>
/// <param name="DdpmSteps">Steps of the DDPM ancestral run, capped at num_train_timesteps (the full chain); 0 to skip.</param>
/// <param name="BatchSize">Images generated per batch.</param>
/// <param name="Seed">Seeds the first batch; batch k uses Seed + k (the same noise for every setting).</param>
/// <param name="GuidanceScale">Classifier-free guidance for class-conditional models (they sample classes in turn).</param>
/// <param name="GridSamples">Samples per setting kept for the side-by-side grid.</param>
/// <param name="InversionImages">Test images DDIM-inverted and rebuilt (0 to skip).</param>
/// <param name="InversionSteps">Steps of the inversion round trip.</param>
/// <param name="Solvers">Further samplers by <see cref="SchedulerPresets"/> name (e.g. dpm++2m, unipc), each run on the model's trained schedule.</param>
/// <param name="SolverCalls">The budgets of those samplers in model evaluations (default 5, 10, 20, 50): each runs the most steps that fit.</param>
public sealed record EvaluationOptions(int Samples = 500, IReadOnlyList<int>? DdimSteps = null, int DdpmSteps = 1000, int BatchSize = 100,
    long Seed = 0, double GuidanceScale = 1.0, int GridSamples = 8, int InversionImages = 16, int InversionSteps = 50,
    IReadOnlyList<string>? Solvers = null, IReadOnlyList<int>? SolverCalls = null)
{
    /// <summary>The model-evaluation budgets of <see cref="Solvers"/> (default 5, 10, 20, 50).</summary>
    public IReadOnlyList<int> Calls => SolverCalls ?? [5, 10, 20, 50];

    /// <summary>The DDIM step counts (default 10, 20, 50, 100).</summary>
    public IReadOnlyList<int> Steps => DdimSteps ?? [10, 20, 50, 100];

    /// <summary>About how many progress reports <see cref="DiffusionEvaluation.Run"/> makes (one per denoising step of a batch), to turn
    /// them into a fraction; at least 1.</summary>
    public int ProgressSteps => (int)Math.Ceiling(Samples / (double)BatchSize) * (2 * Steps.Sum() + (Solvers?.Count ?? 0) * Calls.Sum() + DdpmSteps) + 1;
}

/// <summary>One sampler setting's result.</summary>
/// <param name="Sampler">"DDIM", "DDPM", or a solver preset with its model calls, e.g. "dpm++2m (10 calls)".</param>
/// <param name="Eta">DDIM eta (DDPM: 1 by nature).</param>
/// <param name="Family">The line this setting belongs to when settings are compared across budgets: "DDIM eta 0",
/// "DDIM eta 1", "DDPM" or the solver preset's name.</param>
/// <param name="Steps">Denoising steps.</param>
/// <param name="ModelCalls">UNet evaluations per sample (Heun and KDPM2 make two per step; guidance's batch counts once).</param>
/// <param name="FdFmnist">FD-FMNIST against the real test images.</param>
/// <param name="SecondsPerSample">Wall time of sampling divided by the number of samples.</param>
/// <param name="Grid">(GridSamples, C, H, W) the first samples, in [−1, 1].</param>
public sealed record SamplerResult(string Sampler, string Family, double Eta, int Steps, int ModelCalls, double FdFmnist, double SecondsPerSample, Tensor Grid);

/// <summary>The <see cref="SamplerResult.Family"/> names of the DDIM and DDPM lines (a solver's is its preset name).</summary>
public static class SamplerFamily
{
    /// <summary>"DDPM".</summary>
    public const string Ddpm = "DDPM";

    /// <summary>"DDIM eta 0" or "DDIM eta 1".</summary>
    public static string Ddim(double eta) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"DDIM eta {eta:0}");
}

/// <summary>All measurements of one model.</summary>
/// <param name="Rows">One per sampler setting, in run order.</param>
/// <param name="RealVsReal">FD-FMNIST between the two halves of the real test images: the floor set by sample size.</param>
/// <param name="Deterministic">DDIM eta 0 twice from the same noise gave bit-identical images.</param>
/// <param name="Inversion">DDIM inversion round trip of test images, or null when skipped.</param>
public sealed record EvaluationReport(IReadOnlyList<SamplerResult> Rows, double RealVsReal, bool Deterministic, InversionResult? Inversion);

/// <summary>
/// Compares samplers on one trained model with FD-FMNIST: the Fréchet distance between Gaussians fitted to the 128-d
/// penultimate features of a Fashion-MNIST classifier (<see cref="FeatureClassifier"/>) for generated and real test
/// images. FD-FMNIST is NOT Inception FID: its numbers are only comparable with other FD-FMNIST numbers from the same
/// classifier and sample counts.
/// </summary>
public static class DiffusionEvaluation
{
    /// <summary>Runs every sampler setting, the determinism check and the inversion round trip.</summary>
    /// <param name="unet">The model (e.g. the EMA weights), producing 32×32 images in [−1, 1] that crop to Fashion-MNIST's 28×28.</param>
    /// <param name="schedulerPath">scheduler_config.json (or its folder), read as DDIM, DDPM and DDIM-inverse config.</param>
    /// <param name="realTest">(N, 1, 28, 28) real test images in [0, 1].</param>
    /// <param name="inversionImages">(K, 1, H, W) images in the model range to invert, with <paramref name="inversionLabels"/> for class-conditional models.</param>
    /// <param name="progress">(setting name, step progress within the current batch).</param>
    public static EvaluationReport Run(UNet2DModel unet, string schedulerPath, FeatureClassifier classifier, Tensor realTest,
        Tensor? inversionImages, long[]? inversionLabels, EvaluationOptions options, Action<string, SamplingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(realTest);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Samples, 2);
        var ddim = DDIMScheduler.FromConfigFile(schedulerPath);
        var ddpm = DDPMScheduler.FromConfigFile(schedulerPath);
        using var scope = torch.NewDisposeScope();
        var realFeatures = classifier.Features(realTest);
        long half = realFeatures.shape[0] / 2;
        double realVsReal = FrechetDistance.Compute(realFeatures.narrow(0, 0, half), realFeatures.narrow(0, half, half));

        var rows = new List<SamplerResult>();
        int maxSteps = ddim.Config.NumTrainTimesteps;
        foreach (double eta in new[] { 0.0, 1.0 })
            foreach (int steps in options.Steps.Select(s => Math.Min(s, maxSteps)).Distinct())
            {
                var pipe = new DDIMPipeline(unet, ddim);
                var name = $"DDIM eta {eta:0} {steps} steps";
                rows.Add(Measure("DDIM", SamplerFamily.Ddim(eta), eta, steps, steps, unet, classifier, realFeatures, options, (o, p) => pipe.Sample(o with { Steps = steps, Eta = eta }, s => progress?.Invoke(name, s))));
            }
        foreach (var solver in options.Solvers ?? [])
            foreach (int calls in options.Calls.Distinct())
            {
                var pipe = new UNet2DPipeline(unet, SchedulerPresets.FromConfigFile(schedulerPath, solver));
                int steps = pipe.StepsForModelCalls(Math.Min(calls, maxSteps));
                var name = $"{solver} ({pipe.ModelCalls(steps)} calls)";
                rows.Add(Measure(name, solver, 0, steps, pipe.ModelCalls(steps), unet, classifier, realFeatures, options, (o, p) => pipe.Sample(o with { Steps = steps }, s => progress?.Invoke(name, s))));
            }
        if (options.DdpmSteps > 0)
        {
            var pipe = new DDPMPipeline(unet, ddpm);
            int ddpmSteps = Math.Min(options.DdpmSteps, ddpm.Config.NumTrainTimesteps);
            var name = $"DDPM {ddpmSteps} steps";
            rows.Add(Measure("DDPM", SamplerFamily.Ddpm, 1.0, ddpmSteps, ddpmSteps, unet, classifier, realFeatures, options, (o, p) => pipe.Sample(o with { Steps = ddpmSteps }, s => progress?.Invoke(name, s))));
        }

        // Determinism: eta 0 twice from the same seed.
        int checkSteps = Math.Min(options.Steps.Min(), maxSteps);
        var check = new SamplingOptions(Math.Min(4, options.Samples), checkSteps, 0, options.Seed, Classes(unet, Math.Min(4, options.Samples), 0), options.GuidanceScale);
        var first = new DDIMPipeline(unet, ddim).Sample(check);
        var second = new DDIMPipeline(unet, ddim).Sample(check);
        bool deterministic = first.eq(second).all().item<bool>();

        InversionResult? inversion = null;
        if (inversionImages is not null && inversionImages.shape[0] > 0)
        {
            var inv = DDIMInversion.FromSchedulerConfig(unet, schedulerPath);
            var result = inv.RoundTrip(inversionImages, Math.Min(options.InversionSteps, ddim.Config.NumTrainTimesteps), inversionLabels,
                s => progress?.Invoke("DDIM inversion", s));
            inversion = result with { Latents = result.Latents.MoveToOuterDisposeScope(), Reconstruction = result.Reconstruction.MoveToOuterDisposeScope() };
        }
        foreach (var r in rows) r.Grid.MoveToOuterDisposeScope();
        return new EvaluationReport(rows, realVsReal, deterministic, inversion);
    }

    static SamplerResult Measure(string sampler, string family, double eta, int steps, int modelCalls, UNet2DModel unet, FeatureClassifier classifier, Tensor realFeatures,
        EvaluationOptions options, Func<SamplingOptions, int, Tensor> sample)
    {
        using var scope = torch.NewDisposeScope();
        var features = new List<Tensor>();
        Tensor? grid = null;
        var watch = new Stopwatch();
        int done = 0;
        for (int batch = 0; done < options.Samples; batch++)
        {
            int n = Math.Min(options.BatchSize, options.Samples - done);
            var o = new SamplingOptions(n, steps, eta, options.Seed + batch, Classes(unet, n, done), options.GuidanceScale);
            watch.Start();
            var images = sample(o, batch); // (n, 1, 32, 32) in [-1, 1]
            watch.Stop();
            grid ??= images.narrow(0, 0, Math.Min(options.GridSamples, n));
            features.Add(classifier.Features(FashionMnistDiffusionData.ToClassifierRange(images)));
            done += n;
        }
        double fd = FrechetDistance.Compute(torch.cat(features), realFeatures);
        return new SamplerResult(sampler, family, eta, steps, modelCalls, fd, watch.Elapsed.TotalSeconds / options.Samples, grid!.MoveToOuterDisposeScope());
    }

    /// <summary>Classes in turn (offset by the images already generated) for class-conditional models, else null.</summary>
    static long[]? Classes(UNet2DModel unet, int count, int offset) =>
        ClassifierFreeGuidance.NullClass(unet) is long k ? Enumerable.Range(offset, count).Select(i => i % k).ToArray() : null;
}
