using SharpVision.Diffusion.Models;
using SharpVision.Nn;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>
/// Class conditioning and classifier-free guidance (Ho and Salimans 2022, https://arxiv.org/abs/2207.12598) for a
/// <see cref="UNet2DModel"/> with a class lookup table (<c>num_class_embeds</c> set, <c>class_embed_type</c> null).
/// </summary>
/// <remarks>
/// <para>Convention: the table has one row more than there are classes, and its LAST id,
/// <c>num_class_embeds - 1</c>, is the "null" class the model is trained on when the label is dropped. A Fashion-MNIST
/// model therefore has <c>num_class_embeds = 11</c>: ids 0–9 are the classes, 10 is null.</para>
/// <para>Guided prediction: <c>eps = eps(x, null) + s (eps(x, c) - eps(x, null))</c>, both halves in one batch.</para>
/// </remarks>
public static class ClassifierFreeGuidance
{
    /// <summary>The null class id of <paramref name="unet"/>, or null when the model has no class lookup table.</summary>
    public static long? NullClass(UNet2DModel unet)
    {
        ArgumentNullException.ThrowIfNull(unet);
        return unet.Config.ClassEmbedType is null && unet.Config.NumClassEmbeds is int n ? n - 1 : null;
    }

    /// <summary>Checks class labels against the model and returns them as an int64 tensor (B), or null for an unconditional model.</summary>
    /// <param name="labels">Class ids, one per sample; null means the null class for a class-conditional model.</param>
    /// <param name="batch">B.</param>
    /// <exception cref="ArgumentException">Labels for an unconditional model, a wrong count, an id out of range, or a
    /// model whose class embedding is not a lookup table.</exception>
    public static Tensor? Labels(UNet2DModel unet, long[]? labels, long batch, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        bool conditional = unet.class_embedding is not null;
        long? nullId = NullClass(unet);
        if (!conditional)
        {
            if (labels is not null)
                throw new ArgumentException("class labels given, but the model has no class embedding (num_class_embeds unset)", nameof(labels));
            return null;
        }
        if (nullId is null)
            throw new ArgumentException($"class_embed_type {unet.Config.ClassEmbedType} models take embeddings, not class ids; only num_class_embeds lookup tables are supported", nameof(labels));
        if (labels is null) return torch.full(batch, nullId.Value, dtype: ScalarType.Int64, device: device);
        if (labels.Length != batch)
            throw new ArgumentException($"class labels must be ({batch}); got ({labels.Length})", nameof(labels));
        foreach (var l in labels)
            if (l < 0 || l > nullId)
                throw new ArgumentException($"class labels must be in 0..{nullId} ({nullId} is the null class); got {l}", nameof(labels));
        return torch.tensor(labels, dtype: ScalarType.Int64, device: device);
    }

    /// <summary>The model's prediction at <paramref name="timestep"/>, guided when <paramref name="guidanceScale"/> is not 1.</summary>
    /// <param name="sample">(B, C, H, W) x_t.</param>
    /// <param name="labels">(B) class ids, or null for an unconditional model.</param>
    /// <returns>(B, out_channels, H, W).</returns>
    /// <exception cref="ArgumentException">Guidance requested for a model without a null class.</exception>
    public static Tensor Predict(UNet2DModel unet, Tensor sample, long timestep, Tensor? labels, double guidanceScale)
    {
        using var t = torch.tensor(new[] { timestep }, dtype: ScalarType.Int64, device: sample.device);
        return Predict(unet, sample, t, labels, guidanceScale);
    }

    /// <summary>The same at a timestep given as a tensor (fractional for the sigma-space schedulers: Heun, KDPM2, Euler).</summary>
    /// <param name="timestep">Scalar or (1) timestep, int64 or floating.</param>
    public static Tensor Predict(UNet2DModel unet, Tensor sample, Tensor timestep, Tensor? labels, double guidanceScale)
    {
        ArgumentNullException.ThrowIfNull(unet);
        if (guidanceScale == 1.0 || labels is null)
        {
            if (guidanceScale != 1.0)
                throw new ArgumentException($"guidance scale {guidanceScale} needs a class-conditional model with a null class (num_class_embeds)", nameof(guidanceScale));
            return unet.forward(sample, timestep, labels);
        }
        long nullId = NullClass(unet) ?? throw new ArgumentException("guidance needs a model with a class lookup table", nameof(unet));
        using var scope = torch.NewDisposeScope();
        var both = torch.cat([sample, sample]); // (2B, C, H, W): conditional half, then unconditional half
        var bothLabels = torch.cat([labels, torch.full_like(labels, nullId)]); // (2B)
        var halves = unet.forward(both, timestep, bothLabels).chunk(2); // 2 × (B, C, H, W)
        var guided = halves[1] + guidanceScale * (halves[0] - halves[1]);
        return guided.MoveToOuterDisposeScope();
    }

    /// <summary>The (B, C, H, W) sample shape for <paramref name="unet"/>: explicit height/width or the config's sample_size.</summary>
    /// <exception cref="ArgumentException">No size given and none in the config.</exception>
    public static long[] SampleShape(UNet2DModel unet, int count, int? height, int? width)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var size = unet.Config.SampleSize;
        int? h = height ?? size?[0], w = width ?? (size is { Length: > 1 } ? size[1] : size?[0]);
        if (h is null || w is null)
            throw new ArgumentException("the model config has no sample_size; give the height and width", nameof(height));
        return [count, unet.Config.InChannels, h.Value, w.Value];
    }
}
