using System.Globalization;

namespace SharpVision.Nn.Training;

/// <summary>
/// Test hooks of the kill/resume fault tests: set by environment variable, a run stops at a chosen instant, announces it
/// and waits to be killed, so a SIGKILL lands there deterministically. Unset (always, outside those tests) they cost one
/// comparison.
/// </summary>
public static class FaultHold
{
    /// <summary>Holds mid-step: at this 1-based step, after the forward pass and before the backward pass and the optimizer
    /// step, writing <c>fault hold: step N</c> to stderr.</summary>
    public const string StepVariable = "SHARPVISION_FAULT_HOLD_STEP";

    /// <summary>Holds mid-write: in the save of this step's checkpoint, after the trainer's files and before the state file
    /// and marker, writing <c>held</c> into the temporary folder.</summary>
    public const string CheckpointVariable = "SHARPVISION_FAULT_HOLD_CHECKPOINT";

    static readonly long? Step = Read(StepVariable), Checkpoint = Read(CheckpointVariable);

    /// <summary>Called by every trainer between its loss and its optimizer step (through
    /// <see cref="TrainingDivergedException.ThrowIfNotFinite"/>).</summary>
    public static void AtStep(long step)
    {
        if (step != Step) return;
        Console.Error.WriteLine($"fault hold: step {step}");
        Console.Error.Flush();
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>Called by <see cref="CheckpointFolders.Save"/> once the trainer's files are in <paramref name="temp"/>.</summary>
    public static void InCheckpointWrite(long step, string temp)
    {
        if (step != Checkpoint) return;
        File.WriteAllText(Path.Combine(temp, "held"), $"pid {Environment.ProcessId}\n");
        Thread.Sleep(Timeout.Infinite);
    }

    static long? Read(string variable) =>
        long.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
