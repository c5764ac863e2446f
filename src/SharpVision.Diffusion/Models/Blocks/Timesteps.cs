namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>
/// Sinusoidal timestep features of DDPM (Ho et al. 2020, after the Transformer's positional encoding).
/// Follows diffusers models/embeddings.py (<c>get_timestep_embedding</c>, <c>Timesteps</c>); no parameters.
/// </summary>
public sealed class Timesteps : nn.Module<Tensor, Tensor>
{
    readonly long num_channels;
    readonly bool flip_sin_to_cos;
    readonly double downscale_freq_shift;
    readonly double scale;

    /// <param name="numChannels">Output width D.</param>
    /// <param name="flipSinToCos">Put the cosine half first.</param>
    /// <param name="downscaleFreqShift">The s in frequency_i = max_period^(-i / (D/2 - s)).</param>
    public Timesteps(long numChannels, bool flipSinToCos, double downscaleFreqShift, double scale = 1.0) : base(nameof(Timesteps))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numChannels);
        num_channels = numChannels;
        flip_sin_to_cos = flipSinToCos;
        downscale_freq_shift = downscaleFreqShift;
        this.scale = scale;
        RegisterComponents();
    }

    /// <param name="timesteps">(N) timesteps, integer or fractional.</param>
    /// <returns>(N, D) float32, as the reference returns whatever the model's dtype.</returns>
    public override Tensor forward(Tensor timesteps) =>
        GetTimestepEmbedding(timesteps, num_channels, flip_sin_to_cos, downscale_freq_shift, scale);

    /// <summary>
    /// emb[n, i] = sin(scale * t_n * f_i) for i &lt; D/2 and cos(...) for the second half (swapped when
    /// <paramref name="flipSinToCos"/>), f_i = exp(-ln(maxPeriod) * i / (D/2 - shift)); an odd D gets a zero column.
    /// Computed in float32 like the reference, so results agree with it bit for bit in the usual case.
    /// </summary>
    /// <param name="timesteps">(N) timesteps.</param>
    /// <returns>(N, D) float32.</returns>
    /// <exception cref="ArgumentException">timesteps is not one-dimensional.</exception>
    public static Tensor GetTimestepEmbedding(Tensor timesteps, long embeddingDim, bool flipSinToCos = false,
        double downscaleFreqShift = 1, double scale = 1, double maxPeriod = 10000)
    {
        SharpVision.Nn.Shapes.RequireRank(timesteps, 1, "(N)", nameof(timesteps));
        using var scope = torch.NewDisposeScope();
        long half = embeddingDim / 2;
        var exponent = arange(0, half, dtype: ScalarType.Float32, device: timesteps.device) * (-Math.Log(maxPeriod));
        exponent = exponent / (half - downscaleFreqShift);
        var freqs = exponent.exp();
        var args = timesteps.unsqueeze(1).to(ScalarType.Float32) * freqs.unsqueeze(0); // (N, half)
        args = scale * args;
        var emb = cat([args.sin(), args.cos()], dim: -1); // (N, 2 * half)
        if (flipSinToCos) emb = cat([emb[.., (int)half..], emb[.., ..(int)half]], dim: -1);
        if (embeddingDim % 2 == 1) emb = nn.functional.pad(emb, [0, 1, 0, 0]);
        return emb.MoveToOuterDisposeScope();
    }
}
