using System.Globalization;
using SharpVision.Experiments.VQVAE;

namespace SharpVision.Cli.Tour.Stages;

/// <summary>Section 3: a VQ-VAE (diffusers' VQModel) trained on Fashion-MNIST with the EMA codebook and dead-code restarts
/// (<see cref="VQVAEExperiment"/>).</summary>
public sealed class VQVAEStage : TourStage
{
    public override string Id => "vqvae";
    public override string Title => "VQ-VAE: vector quantization with the straight-through estimator";
    public override double ExpectedSeconds => 120;

    public override StageResult Run(TourContext context)
    {
        var result = VQVAEExperiment.Run(context.Train, context.Test, context.StageDir(Id), context.Budget.VQVAE, context.Progress());
        return new StageResult
        {
            Id = Id, Title = Title, Budget = context.Budget.Name,
            Claim = "A VQ-VAE snaps each encoder output to its nearest codebook vector; the straight-through estimator copies the decoder's gradient past the non-differentiable lookup, a codebook loss pulls codes to the encoder outputs and a commitment loss keeps the encoder near its codes.",
            Measured = string.Create(CultureInfo.InvariantCulture, $"After {result.Steps:N0} steps (batch {result.Batch}, EMA codebook with dead-code restarts), test MSE {result.TestMse:F4} on pixels in [-1, 1], codebook perplexity {result.Perplexity:F1} of {result.CodebookSize} codes, {result.CodesUsed:P0} of the codes used on {result.TestImages:N0} test images."),
            Figures = StageResult.FiguresOf(result),
            Images =
            [
                new ReportImage(context.ReportPath(result.ReconstructionsPicture), "Top: test images; bottom: their VQ-VAE reconstructions (8×8 codes each)"),
                new ReportImage(context.ReportPath(result.TrainingChart), "Training: reconstruction MSE and codebook perplexity (as a fraction of the codebook)"),
            ],
        };
    }
}
