using System.Globalization;

namespace SharpVision.Nn.Training;

/// <summary>
/// The loss became NaN or infinite: every trainer stops this way, before the optimizer takes that step. The message
/// names the step, the loss, the newest complete checkpoint and what to do (a lower learning rate, then resume).
/// </summary>
public sealed class TrainingDivergedException(long step, double loss, string? lastCheckpoint)
    : Exception(string.Create(CultureInfo.InvariantCulture, $"training diverged: the loss is {loss} at step {step}; the optimizer did not take that step. ") +
        (lastCheckpoint is null
            ? "No checkpoint was written yet: start again with a lower learning rate (--lr)."
            : $"Last good checkpoint: {lastCheckpoint}. Lower the learning rate (--lr, or raise the warm-up) and resume from it (--resume)."))
{
    /// <summary>The step whose loss was not finite (1-based).</summary>
    public long Step { get; } = step;

    /// <summary>The loss value.</summary>
    public double Loss { get; } = loss;

    /// <summary>The newest complete checkpoint folder, if any.</summary>
    public string? LastCheckpoint { get; } = lastCheckpoint;

    /// <summary>Throws when <paramref name="loss"/> is NaN or infinite. Every trainer calls this between its loss and its
    /// optimizer step, which makes it also the place of the fault tests' mid-step hold (<see cref="FaultHold.AtStep"/>).</summary>
    /// <param name="step">The 1-based step the loss belongs to.</param>
    /// <exception cref="TrainingDivergedException">The loss is not finite.</exception>
    public static void ThrowIfNotFinite(double loss, long step, string? lastCheckpoint)
    {
        FaultHold.AtStep(step);
        if (!double.IsFinite(loss)) throw new TrainingDivergedException(step, loss, lastCheckpoint);
    }
}
