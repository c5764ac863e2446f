using TorchSharp.Modules;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Random Fourier features of log-noise-levels (score SDE, Song et al. 2021): a fixed Gaussian frequency vector
/// <c>weight</c> (not trained). Follows diffusers models/embeddings.py <c>GaussianFourierProjection</c>.
/// </summary>
public sealed class GaussianFourierProjection : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    readonly bool log;
    readonly bool flip_sin_to_cos;

    /// <param name="embeddingSize">Number of frequencies F; the output has 2F features.</param>
    /// <param name="scale">Standard deviation of the frequencies.</param>
    public GaussianFourierProjection(long embeddingSize = 256, double scale = 1.0, bool log = true, bool flipSinToCos = false)
        : base(nameof(GaussianFourierProjection))
    {
        weight = new Parameter(randn(embeddingSize) * scale, requires_grad: false);
        this.log = log;
        flip_sin_to_cos = flipSinToCos;
        RegisterComponents();
    }

    /// <param name="x">(N) noise levels (positive when <c>log</c>).</param>
    /// <returns>(N, 2F).</returns>
    public override Tensor forward(Tensor x)
    {
        SharpVision.Nn.Shapes.RequireRank(x, 1, "(N)", nameof(x));
        using var scope = torch.NewDisposeScope();
        if (log) x = x.log();
        var proj = x.unsqueeze(1) * weight.unsqueeze(0) * 2 * Math.PI; // (N, F)
        var emb = flip_sin_to_cos ? cat([proj.cos(), proj.sin()], -1) : cat([proj.sin(), proj.cos()], -1);
        return emb.MoveToOuterDisposeScope();
    }
}
