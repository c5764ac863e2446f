namespace SharpVision.Diffusion.ControlNet;

/// <summary>Copying weights between two identically built modules (ControlNet's trainable copy of the UNet encoder).</summary>
public static class ModuleWeights
{
    /// <summary>Copies every parameter and buffer of <paramref name="source"/> into <paramref name="target"/> (same names and shapes).</summary>
    /// <exception cref="ArgumentException">The names or shapes differ (the first difference is named, with both sides).</exception>
    public static void Copy(nn.Module source, nn.Module target, string what)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var from = source.state_dict();
        var to = target.state_dict();
        var missing = to.Keys.Except(from.Keys).Concat(from.Keys.Except(to.Keys)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"{what}: source and target differ in keys: {string.Join(", ", missing.Take(5))}", nameof(source));
        using var noGrad = torch.no_grad();
        foreach (var (key, t) in to)
        {
            var s = from[key];
            if (!s.shape.SequenceEqual(t.shape))
                throw new ArgumentException($"{what}.{key}: source is {SharpVision.Nn.Shapes.Format(s)}, target is {SharpVision.Nn.Shapes.Format(t)}", nameof(source));
            t.copy_(s);
        }
    }
}
