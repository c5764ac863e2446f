using System.Globalization;
using SharpVision.Experiments.Classifier;
using SharpVision.Experiments.Diffusion;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 4: DDPM training on Fashion-MNIST, then DDIM (eta 0 and 1) against DDPM sampling from the same model
/// (<see cref="DiffusionExperiment"/>).</summary>
public sealed class DiffusionStage : TourStage
{
    public const string StageId = "diffusion";
    public override string Id => StageId;
    public override string Title => "DDPM training and DDIM sampling";
    public override IReadOnlyList<string> Requires => [CrossEntropyStage.StageId];
    public override double ExpectedSeconds => 430;

    /// <summary>The trained EMA model and its scheduler, for the ControlNet section.</summary>
    public static (string Model, string Scheduler) ModelPaths(string outDir) => DiffusionExperiment.ModelFolders(Path.Combine(outDir, StageId));

    public override StageResult Run(TourContext context)
    {
        var options = context.Budget.Diffusion;
        var classifierDir = CrossEntropyStage.ClassifierPath(context.OutDir);
        using var classifier = FeatureClassifier.Exists(classifierDir) ? FeatureClassifier.Load(classifierDir)
            : throw new InvalidOperationException($"the diffusion section needs the cross-entropy section's classifier in {classifierDir}");
        var result = DiffusionExperiment.Run(context.Train, context.Test, classifier, context.StageDir(Id), options, context.Progress());

        var inv = CultureInfo.InvariantCulture;
        var ddpm = result.Settings.FirstOrDefault(r => r.Family == SamplerFamily.Ddpm);
        var bestDdim = result.Settings.Where(r => r.Family == SamplerFamily.Ddim(0)).MinBy(r => r.FdFmnist);
        var rows = result.Settings.Select(r => new[]
        {
            r.Sampler, r.Eta.ToString("0", inv), r.Steps.ToString(inv), r.FdFmnist.ToString("F2", inv), (r.SecondsPerSample * 1000).ToString("F1", inv),
        }).Append(["real vs real (two halves of the test images)", "", "", result.RealVsReal.ToString("F2", inv), ""]).ToList();
        string Row(double eta) => string.Join(", ", result.Settings.Where(r => r.Family == SamplerFamily.Ddim(eta))
            .Select(r => string.Create(inv, $"{r.Steps} steps {r.FdFmnist:F1}")));
        var solver = options.FewStepSolver;
        var measured = string.Create(inv, $"Trained {result.TrainSteps:N0} steps (batch {result.Batch}) in {result.TrainSeconds:F0} s. FD-FMNIST on {result.SamplesPerSetting} samples per setting (lower is better; real vs real {result.RealVsReal:F2}): DDIM eta 0 at {Row(0)}; DDIM eta 1 at {Row(1)}")
            + (ddpm is null ? "" : string.Create(inv, $"; DDPM {ddpm.Steps} steps {ddpm.FdFmnist:F1}, {ddpm.SecondsPerSample / (bestDdim?.SecondsPerSample ?? double.NaN):F0}× the time per sample of the best DDIM eta 0 setting ({bestDdim?.Steps} steps)"))
            + string.Create(inv, $"; {solver} (UniPC bh2) at the same numbers of model calls: {string.Join(", ", result.Settings.Where(r => r.Family == solver).Select(r => $"{r.ModelCalls} calls {r.FdFmnist:F1}"))}")
            + ". " + string.Join(" ", result.Findings);
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "DDPM trains a network to predict the noise added to an image; DDIM samples from the same trained network with a non-Markovian, deterministic (eta = 0) process that needs far fewer steps than DDPM's 1000, and can be run backwards (inversion).",
            Measured = measured,
            Figures = StageResult.FiguresOf(result),
            Tables = [new ReportTable("Sampler comparison: FD-FMNIST (Fréchet distance on this project's classifier features; not Inception FID) and time per sample",
                ["sampler", "eta", "steps", "FD-FMNIST", "ms / sample"], rows)],
            Images =
            [
                new ReportImage(context.ReportPath(result.Evaluation.Samples), "Samples, one column per setting in table order (same class per row)"),
                .. result.Evaluation.Inversion is { } inversion
                    ? [new ReportImage(context.ReportPath(inversion), "DDIM inversion: test images, their inverted latents, and the images regenerated from them")]
                    : Array.Empty<ReportImage>(),
                new ReportImage(context.ReportPath(result.LossChart), "Training loss"),
            ],
            Notes = [string.Create(inv, $"DDPM ran {result.DdpmSteps} steps, the schedule's full length.")],
        };
    }
}
