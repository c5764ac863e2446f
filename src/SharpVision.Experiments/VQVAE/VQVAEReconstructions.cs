using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Experiments.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Experiments.VQVAE;

/// <summary>The reconstruction figure of a VQ-VAE (<c>vqvae reconstruct</c> and the tour's VQ-VAE section).</summary>
public static class VQVAEReconstructions
{
    /// <summary>Writes the first <paramref name="count"/> test images (top row) above their reconstructions (bottom row), cropped to 28×28.</summary>
    /// <param name="test">(N, 1, 32, 32) images in [−1, 1], padded by <see cref="VQVAEArchitecture.Padding"/>.</param>
    public static void Save(VQModel model, Tensor test, int count, string png)
    {
        count = (int)Math.Min(count, test.shape[0]);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var x = test.narrow(0, 0, count);
        var decoded = model.forward(x).Sample;
        int p = VQVAEArchitecture.Padding;
        var both = cat([x, decoded], 0).narrow(2, p, x.shape[2] - 2 * p).narrow(3, p, x.shape[3] - 2 * p); // (2·count, 1, 28, 28)
        Images.SaveGrid(both, png, columns: count, low: -1, high: 1);
    }
}
