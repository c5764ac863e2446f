using System.Globalization;
using System.Text.Json.Serialization;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Output;
using SharpVision.Nn.Data;

namespace SharpVision.Experiments.VQVAE;

/// <summary>Options of <see cref="VQVAEExperiment"/>.</summary>
/// <param name="Steps">Training steps (batch <see cref="VQVAETrainingOptions.BatchSize"/>).</param>
/// <param name="Variant">How the codebook learns (default: EMA updates with dead-code restarts).</param>
/// <param name="Reconstructions">Test images shown above their reconstructions.</param>
public sealed record VQVAEExperimentOptions(int Steps = 200, VQVAEVariant Variant = VQVAEVariant.EmaRestart, int Reconstructions = 16);

/// <summary>What <see cref="VQVAEExperiment"/> measured and wrote. The JSON names (snake_case) are the report's.</summary>
/// <param name="Steps">Training steps run.</param>
/// <param name="Batch">Images per step.</param>
/// <param name="CodebookSize">Codes in the codebook.</param>
/// <param name="TestMse">Reconstruction MSE on the test images, pixels in [−1, 1].</param>
/// <param name="Perplexity">Codebook perplexity on the test images.</param>
/// <param name="CodesUsed">Fraction of the codes used on the test images.</param>
/// <param name="TestImages">Test images.</param>
/// <param name="Checkpoints">The trainer's checkpoint folder.</param>
/// <param name="ReconstructionsPicture">Test images above their reconstructions (PNG).</param>
/// <param name="TrainingChart">Reconstruction loss and perplexity during training (PNG).</param>
public sealed record VQVAEResult(
    int Steps, int Batch, int CodebookSize, double TestMse, double Perplexity, double CodesUsed, int TestImages,
    [property: JsonIgnore] string Checkpoints, [property: JsonIgnore] string ReconstructionsPicture, [property: JsonIgnore] string TrainingChart)
    : IExperimentResult
{
    /// <inheritdoc/>
    [JsonIgnore] public IReadOnlyList<string> Files => [Checkpoints, ReconstructionsPicture, TrainingChart];
}

/// <summary>
/// The VQ-VAE experiment: diffusers' VQModel in the Fashion-MNIST architecture (<see cref="VQVAEArchitecture"/>) trained by
/// <see cref="VQVAETrainer"/> with one codebook scheme, then tested: reconstruction error, perplexity and codebook usage.
/// </summary>
public static class VQVAEExperiment
{
    /// <summary>Trains, saves and tests the VQ-VAE and writes its figures into <paramref name="outDir"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="VQVAEExperimentOptions.Steps"/> is not positive.</exception>
    public static VQVAEResult Run(LabeledImages train, LabeledImages test, string outDir, VQVAEExperimentOptions options,
        IProgress<ExperimentProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Steps);
        Directory.CreateDirectory(outDir);
        var config = new VQVAEArchitecture().ToConfig();
        var training = new VQVAETrainingOptions { Quantizer = VQVAEComparison.QuantizerFor(options.Variant) };
        using var trainImages = VQVAETrainer.PrepareImages(train, VQVAEArchitecture.ImageSize);
        using var testImages = VQVAETrainer.PrepareImages(test, VQVAEArchitecture.ImageSize);
        int steps = options.Steps;
        var curve = new List<VQVAEStep>();
        using var trainer = new VQVAETrainer(config, trainImages, training);
        trainer.Train(steps, s =>
        {
            curve.Add(s);
            progress?.Report(new(s.Step / (double)steps, string.Create(CultureInfo.InvariantCulture, $"step {s.Step}/{steps} loss {s.Loss:F4} perplexity {s.Perplexity:F1}")));
        });
        var checkpoints = Path.Combine(outDir, "checkpoints");
        trainer.Save(checkpoints);
        var eval = VQVAETrainer.Evaluate(trainer.Model, testImages, VQVAEArchitecture.Padding);
        var reconstructions = Path.Combine(outDir, "reconstructions.png");
        VQVAEReconstructions.Save(trainer.Model, testImages, options.Reconstructions, reconstructions);
        var chart = Path.Combine(outDir, "training.png");
        var x = curve.Select(s => (double)s.Step).ToArray();
        Charts.Lines(chart, "VQ-VAE training: reconstruction loss and codebook perplexity / codes", "step", "value",
            [new Series("reconstruction MSE", x, curve.Select(s => s.ReconstructionLoss).ToArray()),
             new Series($"perplexity / {config.NumVqEmbeddings}", x, curve.Select(s => s.Perplexity / config.NumVqEmbeddings).ToArray())]);
        return new VQVAEResult(steps, training.BatchSize, config.NumVqEmbeddings, eval.Mse, eval.Perplexity, eval.Usage, eval.Images,
            checkpoints, reconstructions, chart);
    }
}
