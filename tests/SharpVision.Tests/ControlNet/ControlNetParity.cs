using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;

namespace SharpVision.Tests.ControlNet;

/// <summary>
/// Kind <c>controlnet</c>: diffusers ControlNetModel residuals on a condition image, and the UNet2DConditionModel output
/// with and without them, from the fixture's two save_pretrained folders.
/// </summary>
public sealed class ControlNetParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["controlnet"];

    public void Run(ParityCase c, Precision p)
    {
        using var unet = UNet2DConditionModel.FromPretrained(c.PathOf(c.String("unet_dir") ?? "unet"), p.Dtype);
        using var controlnet = ControlNetModel.FromPretrained(c.PathOf(c.String("controlnet_dir") ?? "controlnet"), p.Dtype);
        Assert.Equal(c.Params.GetProperty("conditioning_embedding_out_channels").EnumerateArray().Select(e => e.GetInt32()),
            controlnet.Config.ConditioningEmbeddingOutChannels);
        controlnet.RequireCompatible(unet);
        using var noGrad = torch.no_grad();
        var sample = c.Input("sample", p);
        var timestep = c.Raw("timestep");
        var states = c.Input("encoder_hidden_states", p);
        var cond = c.Input("controlnet_cond", p);

        var residuals = controlnet.Forward(sample, timestep, states, cond, c.Double("conditioning_scale") ?? 1.0);
        Assert.Equal((int)(c.Long("num_down_residuals") ?? 0), residuals.DownBlockResSamples.Count);
        for (int i = 0; i < residuals.DownBlockResSamples.Count; i++)
            c.Expect($"expected_down_residual.{i}", residuals.DownBlockResSamples[i], p);
        c.Expect("expected_mid_residual", residuals.MidBlockResSample, p);

        c.Expect("expected_unet_output", unet.forward(sample, timestep, states), p);
        c.Expect("expected_controlled_output",
            unet.Forward(sample, timestep, states, residuals.DownBlockResSamples, residuals.MidBlockResSample), p);
    }
}
