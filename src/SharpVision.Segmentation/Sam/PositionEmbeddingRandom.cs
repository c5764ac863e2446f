using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Positional encoding with random spatial frequencies (Tancik et al. 2020, Fourier features): a point
/// p ∈ [0, 1]² becomes <c>[sin(2π (2p − 1) G), cos(2π (2p − 1) G)]</c> with G the fixed Gaussian buffer
/// <c>positional_encoding_gaussian_matrix</c> (2, F). Follows segment-anything
/// modeling/prompt_encoder.py <c>PositionEmbeddingRandom</c>.
/// </summary>
/// <remarks>
/// Normalised coordinates pass through float32 (the reference's <c>coords.to(torch.float)</c> and its
/// float32 grid) before the encoding runs in the buffer's dtype; a float64 model therefore still sees
/// float32-rounded coordinates.
/// </remarks>
public sealed class PositionEmbeddingRandom : nn.Module<(long H, long W), Tensor>
{
    public readonly Tensor positional_encoding_gaussian_matrix;

    /// <param name="numPosFeats">F: the encoding has 2F channels.</param>
    /// <param name="scale">Scale of the Gaussian frequencies (non-positive or null means 1).</param>
    public PositionEmbeddingRandom(long numPosFeats = 64, double? scale = null) : base(nameof(PositionEmbeddingRandom))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numPosFeats);
        double s = scale is null || scale <= 0.0 ? 1.0 : scale.Value;
        positional_encoding_gaussian_matrix = s * randn(2, numPosFeats);
        RegisterComponents();
    }

    /// <summary>Encodes points normalised to [0, 1]²: (..., 2) → (..., 2F) in the buffer's dtype.</summary>
    Tensor Encode(Tensor coords)
    {
        using var scope = NewDisposeScope();
        var c = 2 * coords.to(positional_encoding_gaussian_matrix.dtype) - 1;
        c = c.matmul(positional_encoding_gaussian_matrix);
        c = 2 * Math.PI * c;
        return cat([c.sin(), c.cos()], -1).MoveToOuterDisposeScope();
    }

    /// <summary>The encoding of every cell centre of an (H, W) grid.</summary>
    /// <returns>(2F, H, W).</returns>
    public override Tensor forward((long H, long W) size)
    {
        using var scope = NewDisposeScope();
        var grid = ones(size.H, size.W, dtype: ScalarType.Float32, device: positional_encoding_gaussian_matrix.device);
        var y = (grid.cumsum(0) - 0.5) / size.H;
        var x = (grid.cumsum(1) - 0.5) / size.W;
        var pe = Encode(stack([x, y], -1)); // (H, W, 2F)
        return pe.permute(2, 0, 1).MoveToOuterDisposeScope(); // (2F, H, W)
    }

    /// <summary>Encodes pixel coordinates of an image of <paramref name="imageSize"/> (H, W).</summary>
    /// <param name="coords">(B, N, 2) as (x, y) pixels, in the model's dtype (normalised in it, then rounded to float32).</param>
    /// <returns>(B, N, 2F).</returns>
    public Tensor ForwardWithCoords(Tensor coords, (long H, long W) imageSize)
    {
        using var scope = NewDisposeScope();
        var c = coords;
        var normalised = stack([c.select(-1, 0) / imageSize.W, c.select(-1, 1) / imageSize.H], -1).to(ScalarType.Float32);
        return Encode(normalised).MoveToOuterDisposeScope();
    }
}
