using SharpVision.Diffusion.Models;

namespace SharpVision.Tests.Diffusion;

/// <summary>Kind <c>unet2d</c>: diffusers UNet2DModel forward on the fixture's own save_pretrained folder.</summary>
public sealed class UNet2DModelParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["unet2d"];

    public void Run(ParityCase c, Precision p)
    {
        using var model = UNet2DModel.FromPretrained(c.PathOf(c.String("model_dir") ?? "."), p.Dtype);
        using var noGrad = torch.no_grad();
        var sample = c.Input("sample", p);
        var timestep = c.Raw("timestep");
        var labels = c.Has("class_labels") ? c.Raw("class_labels") : null;
        c.Expect("expected_output", model.forward(sample, timestep, labels), p);
    }
}
