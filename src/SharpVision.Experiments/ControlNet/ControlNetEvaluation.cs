using System.Diagnostics;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Diffusion;
using SharpVision.Nn;

namespace SharpVision.Experiments.ControlNet;

/// <summary>What <see cref="ControlNetEvaluation.Run"/> measures.</summary>
/// <param name="Samples">Test images whose edge maps are the conditions (one generated image per condition and setting).</param>
/// <param name="Steps">DDIM steps (eta 0), capped at num_train_timesteps.</param>
/// <param name="Scales">Conditioning scales of the ControlNet rows (default 0.5, 1, 1.5); the base model alone is always measured.</param>
/// <param name="BatchSize">Images generated per batch.</param>
/// <param name="Seed">Batch k draws its x_T from seed Seed + k; every setting starts from the same noise.</param>
/// <param name="GridSamples">Conditions kept for the grid.</param>
/// <param name="Tolerance">Pixel tolerance of the edge F1 (<see cref="EdgeMaps.F1"/>); the IoU is exact.</param>
/// <param name="EdgeThreshold">Sobel threshold of the conditions and of the generated images' edges.</param>
public sealed record ControlNetEvaluationOptions(int Samples = 500, int Steps = 50, IReadOnlyList<double>? Scales = null, int BatchSize = 50,
    long Seed = 0, int GridSamples = 8, int Tolerance = 1, double EdgeThreshold = EdgeMaps.DefaultThreshold)
{
    /// <summary>The ControlNet's conditioning scales.</summary>
    public IReadOnlyList<double> ConditioningScales => Scales ?? [0.5, 1.0, 1.5];
}

/// <summary>One setting's control adherence and quality.</summary>
/// <param name="Setting">"base alone" or "ControlNet scale s".</param>
/// <param name="Scale">Conditioning scale (0: the base model without ControlNet).</param>
/// <param name="EdgeIou">Mean exact IoU of the generated images' edges against the conditions.</param>
/// <param name="EdgeF1">Mean F1 of the edges within <see cref="ControlNetEvaluationOptions.Tolerance"/> pixels.</param>
/// <param name="FdFmnist">FD-FMNIST of the generated images against the real test images (null without a classifier).</param>
/// <param name="SecondsPerSample">Sampling wall time per image.</param>
/// <param name="Grid">(GridSamples, 1, H, W) the first generated images in [−1, 1].</param>
public sealed record AdherenceResult(string Setting, double Scale, double EdgeIou, double EdgeF1, double? FdFmnist, double SecondsPerSample, Tensor Grid);

/// <summary>All settings of one ControlNet evaluation.</summary>
/// <param name="Rows">Base alone first, then one per scale.</param>
/// <param name="Conditions">(GridSamples, 1, H, W) the first conditions in {0, 1} (sample size).</param>
/// <param name="Originals">(GridSamples, 1, H, W) the test images they come from, in [−1, 1].</param>
public sealed record ControlNetEvaluationReport(IReadOnlyList<AdherenceResult> Rows, Tensor Conditions, Tensor Originals);

/// <summary>
/// Control adherence of an edge ControlNet: for test images, take their Sobel edge maps as conditions, generate with DDIM
/// (eta 0) from the base model alone and under the ControlNet at several scales, all from the same noise and with the test
/// images' classes for a class-conditional base model, and compare the edges of each generated image with its condition
/// (exact IoU and tolerant F1, <see cref="EdgeMaps"/>). FD-FMNIST (<see cref="DiffusionEvaluation"/>) shows what control
/// costs or gains in image quality; it is not Inception FID.
/// </summary>
public static class ControlNetEvaluation
{
    /// <param name="unet">The locked base model.</param>
    /// <param name="controlNet">An edge ControlNet (1 conditioning channel) for <paramref name="unet"/>.</param>
    /// <param name="schedulerPath">scheduler_config.json (or its folder), read as a DDIM config.</param>
    /// <param name="testImages">(N, 1, H, W) test images in [−1, 1] at the sample size, N ≥ Samples.</param>
    /// <param name="testLabels">Their classes (N) for a class-conditional model, else null.</param>
    /// <param name="classifier">For FD-FMNIST (null: skipped).</param>
    /// <param name="realTest">(M, 1, 28, 28) real test images in [0, 1] for FD-FMNIST.</param>
    /// <param name="progress">(setting, images done in this setting).</param>
    /// <exception cref="ArgumentException">A ControlNet for another UNet, a non-edge ControlNet, or too few test images.</exception>
    public static ControlNetEvaluationReport Run(UNet2DModel unet, UNet2DControlNet controlNet, string schedulerPath, Tensor testImages, long[]? testLabels,
        FeatureClassifier? classifier, Tensor? realTest, ControlNetEvaluationOptions options, Action<string, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(controlNet);
        ArgumentNullException.ThrowIfNull(testImages);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Samples, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        controlNet.RequireCompatible(unet);
        if (controlNet.ConditioningChannels != 1)
            throw new ArgumentException($"an edge ControlNet takes 1-channel conditions; this one takes {controlNet.ConditioningChannels}", nameof(controlNet));
        Shapes.RequireRank(testImages, 4, "(N, 1, H, W)", nameof(testImages));
        Shapes.RequireDim(testImages, 1, 1, "(N, 1, H, W)", nameof(testImages));
        if (testImages.shape[0] < options.Samples)
            throw new ArgumentException($"{options.Samples} samples need as many test images; got {testImages.shape[0]}", nameof(testImages));
        bool conditional = ClassifierFreeGuidance.NullClass(unet) is not null;
        if (conditional && (testLabels is null || testLabels.Length < options.Samples))
            throw new ArgumentException($"the base model is class-conditional: {options.Samples} test labels are required; got {testLabels?.Length ?? 0}", nameof(testLabels));

        var scheduler = DDIMScheduler.FromConfigFile(schedulerPath);
        int steps = Math.Min(options.Steps, scheduler.Config.NumTrainTimesteps);
        int factor = controlNet.controlnet_cond_embedding.DownsampleFactor;
        using var scope = torch.NewDisposeScope();
        var realFeatures = classifier is not null && realTest is not null ? classifier.Features(realTest) : null;

        var settings = new List<double> { 0.0 };
        settings.AddRange(options.ConditioningScales);
        var rows = new List<AdherenceResult>();
        foreach (double scale in settings)
        {
            string name = scale == 0 ? "base alone" : $"ControlNet scale {scale:0.##}";
            using var settingScope = torch.NewDisposeScope();
            var iou = new List<Tensor>();
            var f1 = new List<Tensor>();
            var features = new List<Tensor>();
            var grid = new List<Tensor>();
            int kept = 0;
            var watch = new Stopwatch();
            int done = 0;
            for (int batch = 0; done < options.Samples; batch++)
            {
                using var batchScope = torch.NewDisposeScope();
                int n = Math.Min(options.BatchSize, options.Samples - done);
                var real = testImages.narrow(0, done, n).to(unet.Dtype); // (n, 1, H, W)
                var edges = EdgeMaps.Compute(real, options.EdgeThreshold); // (n, 1, H, W)
                using var g = new Generator((ulong)(options.Seed + batch));
                var noise = torch.randn(real.shape, dtype: unet.Dtype, generator: g);
                var labels = conditional ? torch.tensor(testLabels!.Skip(done).Take(n).ToArray()) : null;
                var controls = scale == 0 ? Array.Empty<UNet2DControl>()
                    : [new UNet2DControl(controlNet, EdgeMaps.Condition(real, factor, options.EdgeThreshold).to(unet.Dtype), scale)];
                scheduler.SetTimesteps(steps);
                watch.Start();
                var images = ControlledDdimSampling.Sample(unet, scheduler, noise, controls, labels,
                    progress: p => { if (p.Step == p.Steps) progress?.Invoke(name, done + n); }); // (n, 1, H, W)
                watch.Stop();
                var generatedEdges = EdgeMaps.Compute(images, options.EdgeThreshold);
                iou.Add(EdgeMaps.Iou(generatedEdges, edges).MoveToOuterDisposeScope());
                f1.Add(EdgeMaps.F1(generatedEdges, edges, options.Tolerance).MoveToOuterDisposeScope());
                if (classifier is not null) features.Add(classifier.Features(FashionMnistDiffusionData.ToClassifierRange(images)).MoveToOuterDisposeScope());
                int keep = Math.Min(options.GridSamples - kept, n);
                if (keep > 0) grid.Add(images.narrow(0, 0, keep).MoveToOuterDisposeScope());
                kept += keep;
                done += n;
            }
            double? fd = realFeatures is not null ? FrechetDistance.Compute(torch.cat(features), realFeatures) : null;
            rows.Add(new AdherenceResult(name, scale, torch.cat(iou).mean().item<float>(), torch.cat(f1).mean().item<float>(), fd,
                watch.Elapsed.TotalSeconds / options.Samples, torch.cat(grid).MoveToOuterDisposeScope()));
        }
        int k = (int)Math.Min(options.GridSamples, options.Samples);
        var originals = testImages.narrow(0, 0, k).to(ScalarType.Float32);
        var conditions = EdgeMaps.Compute(originals, options.EdgeThreshold);
        foreach (var r in rows) r.Grid.MoveToOuterDisposeScope();
        return new ControlNetEvaluationReport(rows, conditions.MoveToOuterDisposeScope(), originals.MoveToOuterDisposeScope());
    }
}
