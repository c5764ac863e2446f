namespace SharpVision.Experiments;

/// <summary>How far an experiment has got: the fraction done (0–1) and what it is doing, for a progress display.</summary>
/// <param name="Fraction">Work done so far over all of it, in [0, 1].</param>
/// <param name="Status">A short line saying what runs now ("step 120/300 loss 0.031").</param>
public readonly record struct ExperimentProgress(double Fraction, string Status);

/// <summary>An <see cref="IProgress{T}"/> that calls <paramref name="report"/> at once, on the reporting thread
/// (<see cref="Progress{T}"/> posts to the thread pool, so a console display would see reports late and out of order).</summary>
public sealed class ImmediateProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}
