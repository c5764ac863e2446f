using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Diffusion.Training;
using SharpVision.Experiments.Output;
using SharpVision.Experiments.VQVAE;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 3: a VQ-VAE (diffusers' VQModel) trained on Fashion-MNIST with the EMA codebook and dead-code restarts.</summary>
public sealed class VQVAEStage : TourStage
{
    public override string Id => "vqvae";
    public override string Title => "VQ-VAE: vector quantization with the straight-through estimator";
    public override double ExpectedSeconds => 120;

    public override StageResult Run(TourContext context)
    {
        var dir = context.StageDir(Id);
        var config = new VQVAEArchitecture().ToConfig();
        var options = new VQVAETrainingOptions { Quantizer = VQVAEComparison.QuantizerFor(VQVAEVariant.EmaRestart) };
        using var train = VQVAETrainer.PrepareImages(context.Train, VQVAEArchitecture.ImageSize);
        using var test = VQVAETrainer.PrepareImages(context.Test, VQVAEArchitecture.ImageSize);
        int steps = context.Budget.VqSteps;
        var curve = new List<VQVAEStep>();
        using var trainer = new VQVAETrainer(config, train, options);
        trainer.Train(steps, s =>
        {
            curve.Add(s);
            context.Progress(s.Step / (double)steps, string.Create(CultureInfo.InvariantCulture, $"step {s.Step}/{steps} loss {s.Loss:F4} perplexity {s.Perplexity:F1}"));
        });
        trainer.Save(Path.Combine(dir, "checkpoints"));
        var eval = VQVAETrainer.Evaluate(trainer.Model, test, VQVAEArchitecture.Padding);
        VQVAEReconstructions.Save(trainer.Model, test, 16, Path.Combine(dir, "reconstructions.png"));
        var x = curve.Select(s => (double)s.Step).ToArray();
        Charts.Lines(Path.Combine(dir, "training.png"), "VQ-VAE training: reconstruction loss and codebook perplexity / codes", "step", "value",
            [new Series("reconstruction MSE", x, curve.Select(s => s.ReconstructionLoss).ToArray()),
             new Series($"perplexity / {config.NumVqEmbeddings}", x, curve.Select(s => s.Perplexity / config.NumVqEmbeddings).ToArray())]);

        var inv = CultureInfo.InvariantCulture;
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "A VQ-VAE snaps each encoder output to its nearest codebook vector; the straight-through estimator copies the decoder's gradient past the non-differentiable lookup, a codebook loss pulls codes to the encoder outputs and a commitment loss keeps the encoder near its codes.",
            Measured = string.Create(inv, $"After {steps:N0} steps (batch {options.BatchSize}, EMA codebook with dead-code restarts), test MSE {eval.Mse:F4} on pixels in [-1, 1], codebook perplexity {eval.Perplexity:F1} of {config.NumVqEmbeddings} codes, {eval.Usage:P0} of the codes used on {eval.Images:N0} test images."),
            Figures = new JsonObject
            {
                ["steps"] = steps, ["batch"] = options.BatchSize, ["codebook_size"] = config.NumVqEmbeddings,
                ["test_mse"] = eval.Mse, ["perplexity"] = eval.Perplexity, ["codes_used"] = eval.Usage, ["test_images"] = eval.Images,
            },
            Images =
            [
                new ReportImage(TourContext.Relative(Id, "reconstructions.png"), "Top: test images; bottom: their VQ-VAE reconstructions (8×8 codes each)"),
                new ReportImage(TourContext.Relative(Id, "training.png"), "Training: reconstruction MSE and codebook perplexity (as a fraction of the codebook)"),
            ],
        };
    }
}
