namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>What a UNet down block returns: the block's output and every intermediate state for the skip connections.</summary>
/// <param name="Sample">(B, C_out, H', W') the output (downsampled unless it is the last block).</param>
/// <param name="ResSamples">One state per resnet (after its attention) and one per downsampler, in order.</param>
public sealed record DownBlockOutput(Tensor Sample, IReadOnlyList<Tensor> ResSamples);

/// <summary>A UNet encoder stage (DownBlock2D, AttnDownBlock2D, ResnetDownsampleBlock2D).</summary>
public interface IDownBlock2D
{
    /// <param name="hiddenStates">(B, C_in, H, W).</param>
    /// <param name="temb">(B, temb_channels) time embedding.</param>
    DownBlockOutput forward(Tensor hiddenStates, Tensor? temb);
}

/// <summary>A UNet decoder stage (UpBlock2D, AttnUpBlock2D, ResnetUpsampleBlock2D).</summary>
public interface IUpBlock2D
{
    /// <summary>How many skip states the block consumes (its number of resnets).</summary>
    int NumResnets { get; }

    /// <param name="hiddenStates">(B, C_prev, H, W).</param>
    /// <param name="resHiddenStates">The skip states, last one consumed first (<see cref="NumResnets"/> of them).</param>
    /// <param name="temb">(B, temb_channels).</param>
    /// <param name="upsampleSize">Target (H', W') of the upsampler instead of doubling, or null.</param>
    /// <returns>(B, C_out, 2H, 2W), or (B, C_out, H, W) for the last block.</returns>
    Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> resHiddenStates, Tensor? temb, long[]? upsampleSize = null);
}
