namespace SharpVision.Nn.Losses;

/// <summary>How a loss reduces its per-element values, as torch's <c>reduction</c> strings.</summary>
public enum Reduction
{
    /// <summary>"none": the per-element losses.</summary>
    None,
    /// <summary>"mean": their (weighted) mean.</summary>
    Mean,
    /// <summary>"sum": their sum.</summary>
    Sum,
}

/// <summary>Maps <see cref="Reduction"/> to and from torch's strings.</summary>
public static class Reductions
{
    /// <summary>"none", "mean" or "sum".</summary>
    public static string ToName(this Reduction reduction) => reduction switch
    {
        Reduction.None => "none",
        Reduction.Mean => "mean",
        Reduction.Sum => "sum",
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "reduction must be None, Mean or Sum"),
    };

    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of the allowed values.</exception>
    public static Reduction Parse(string name) => name switch
    {
        "none" => Reduction.None,
        "mean" => Reduction.Mean,
        "sum" => Reduction.Sum,
        _ => throw new ArgumentException($"reduction must be one of none, mean, sum; got '{name}'", nameof(name)),
    };
}
