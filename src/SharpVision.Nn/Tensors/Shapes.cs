namespace SharpVision.Nn;

/// <summary>Shape formatting and the shape checks public entry points use for their error messages.</summary>
public static class Shapes
{
    /// <summary>Formats a shape as "(2, 4, 32, 32)".</summary>
    public static string Format(ReadOnlySpan<long> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    /// <summary>Formats a tensor's shape.</summary>
    public static string Format(Tensor t) => Format(t.shape);

    /// <summary>
    /// Throws unless <paramref name="tensor"/> has <paramref name="rank"/> dimensions.
    /// <paramref name="expected"/> describes the expected shape, e.g. "(B, C, H, W)".
    /// </summary>
    /// <exception cref="ArgumentException">The rank differs; the message names both shapes.</exception>
    public static void RequireRank(Tensor tensor, int rank, string expected, string paramName)
    {
        ArgumentNullException.ThrowIfNull(tensor, paramName);
        if (tensor.dim() != rank)
            throw new ArgumentException($"{paramName} must be {expected}; got {Format(tensor)}", paramName);
    }

    /// <summary>Throws unless dimension <paramref name="dim"/> of <paramref name="tensor"/> equals <paramref name="size"/>.</summary>
    /// <exception cref="ArgumentException">The size differs; the message names both shapes.</exception>
    public static void RequireDim(Tensor tensor, int dim, long size, string expected, string paramName)
    {
        ArgumentNullException.ThrowIfNull(tensor, paramName);
        if (tensor.dim() <= dim || tensor.shape[dim] != size)
            throw new ArgumentException($"{paramName} must be {expected}; got {Format(tensor)}", paramName);
    }
}
