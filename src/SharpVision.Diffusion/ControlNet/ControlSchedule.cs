namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// When during sampling a ControlNet applies (diffusers' <c>control_guidance_start</c> / <c>control_guidance_end</c>): at
/// step i of N it is on unless i/N &lt; start or (i+1)/N &gt; end, i.e. over the steps lying entirely inside [start, end].
/// </summary>
public sealed record ControlSchedule
{
    /// <summary>Fraction of the steps after which control starts (0 = from the first step).</summary>
    public double Start { get; }

    /// <summary>Fraction of the steps after which control stops (1 = to the last step).</summary>
    public double End { get; }

    /// <summary>Control over all steps.</summary>
    public static ControlSchedule Always { get; } = new(0.0, 1.0);

    /// <param name="start">In [0, 1), before <paramref name="end"/>.</param>
    /// <param name="end">In (0, 1].</param>
    /// <exception cref="ArgumentException">start ≥ end, start &lt; 0 or end &gt; 1 (values named).</exception>
    public ControlSchedule(double start = 0.0, double end = 1.0)
    {
        if (!(start >= 0.0)) throw new ArgumentException($"control_guidance_start must be >= 0; got {start}", nameof(start));
        if (!(end <= 1.0)) throw new ArgumentException($"control_guidance_end must be <= 1; got {end}", nameof(end));
        if (!(start < end)) throw new ArgumentException($"control_guidance_start ({start}) must be smaller than control_guidance_end ({end})", nameof(start));
        Start = start;
        End = end;
    }

    /// <summary>Whether control applies at step <paramref name="stepIndex"/> (0-based) of <paramref name="numSteps"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">numSteps ≤ 0 or the index outside [0, numSteps).</exception>
    public bool IsActive(int stepIndex, int numSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numSteps);
        if (stepIndex < 0 || stepIndex >= numSteps)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"stepIndex must be in [0, {numSteps})");
        return !((double)stepIndex / numSteps < Start || (double)(stepIndex + 1) / numSteps > End);
    }

    /// <summary>diffusers' <c>controlnet_keep[i]</c>: 1 where control applies, else 0.</summary>
    public double Keep(int stepIndex, int numSteps) => IsActive(stepIndex, numSteps) ? 1.0 : 0.0;

    /// <summary>The conditioning scale to use at a step: <paramref name="conditioningScale"/> × <see cref="Keep"/>.</summary>
    public double Scale(double conditioningScale, int stepIndex, int numSteps) => conditioningScale * Keep(stepIndex, numSteps);

    /// <summary>One schedule per ControlNet; a single schedule is used for all of them.</summary>
    /// <exception cref="ArgumentException">Start and end lists of different lengths, or not one per ControlNet.</exception>
    public static IReadOnlyList<ControlSchedule> ForEach(int controlnets, IReadOnlyList<double> starts, IReadOnlyList<double> ends)
    {
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(ends);
        // like the reference, a single start (or end) is repeated to the length of the other list
        if (starts.Count == 1 && ends.Count > 1) starts = Enumerable.Repeat(starts[0], ends.Count).ToArray();
        if (ends.Count == 1 && starts.Count > 1) ends = Enumerable.Repeat(ends[0], starts.Count).ToArray();
        if (starts.Count == 1 && ends.Count == 1) return Enumerable.Repeat(new ControlSchedule(starts[0], ends[0]), controlnets).ToArray();
        if (starts.Count != ends.Count)
            throw new ArgumentException($"control_guidance_start has {starts.Count} values but control_guidance_end has {ends.Count}", nameof(starts));
        if (starts.Count != controlnets)
            throw new ArgumentException($"control_guidance_start/end have {starts.Count} values for {controlnets} ControlNets", nameof(starts));
        return starts.Zip(ends, (s, e) => new ControlSchedule(s, e)).ToArray();
    }
}
