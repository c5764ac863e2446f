namespace SharpVision.Diffusion.ControlNet;

/// <summary>The residuals a ControlNet hands to the UNet it controls, already scaled by the conditioning scale.</summary>
/// <param name="DownBlockResSamples">One per skip state of the UNet's encoder (conv_in's, each resnet's, each downsampler's), shaped like it.</param>
/// <param name="MidBlockResSample">(B, C_last, h, w) shaped like the mid block output.</param>
public sealed record ControlNetOutput(IReadOnlyList<Tensor> DownBlockResSamples, Tensor MidBlockResSample)
{
    /// <summary>The element-wise sum with <paramref name="other"/> (several ControlNets on one UNet).</summary>
    /// <exception cref="ArgumentException">Different residual counts or shapes (both named).</exception>
    public ControlNetOutput Add(ControlNetOutput other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.DownBlockResSamples.Count != DownBlockResSamples.Count)
            throw new ArgumentException($"cannot sum ControlNet outputs with {DownBlockResSamples.Count} and {other.DownBlockResSamples.Count} down residuals", nameof(other));
        var down = new Tensor[DownBlockResSamples.Count];
        for (int i = 0; i < down.Length; i++)
        {
            if (!DownBlockResSamples[i].shape.SequenceEqual(other.DownBlockResSamples[i].shape))
                throw new ArgumentException($"down residual {i}: {SharpVision.Nn.Shapes.Format(DownBlockResSamples[i])} and {SharpVision.Nn.Shapes.Format(other.DownBlockResSamples[i])} differ", nameof(other));
            down[i] = DownBlockResSamples[i] + other.DownBlockResSamples[i];
        }
        if (!MidBlockResSample.shape.SequenceEqual(other.MidBlockResSample.shape))
            throw new ArgumentException($"mid residual: {SharpVision.Nn.Shapes.Format(MidBlockResSample)} and {SharpVision.Nn.Shapes.Format(other.MidBlockResSample)} differ", nameof(other));
        return new ControlNetOutput(down, MidBlockResSample + other.MidBlockResSample);
    }
}
