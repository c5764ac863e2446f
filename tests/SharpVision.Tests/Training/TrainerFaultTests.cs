using System.Globalization;
using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Training;
using SharpVision.Tests.Cli;
using SharpVision.Tests.Testing;

namespace SharpVision.Tests.Training;

/// <summary>
/// Faults during training, one test each, written once for every trainer (<see cref="TrainerFaultCases"/>): the CLI is
/// SIGKILLed at three points and resumed to the end with bit-identical weights; a second run on the same folder is refused
/// (<see cref="OutputFolderLock"/>, also for two tours); a disk that fills up stops the run with a clear error and keeps
/// the previous checkpoint.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class TrainerFaultTests(TrainerFaultCases cases) : IClassFixture<TrainerFaultCases>
{
    static (int Code, string Out, string Err) RunInProcess(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new CommandLineApp(Commands.All).Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    static string? HeldCheckpointWrite(string root) =>
        !Directory.Exists(root) ? null : Directory.GetDirectories(root, $".tmp-{CheckpointFolders.Prefix}*").FirstOrDefault(d => File.Exists(Path.Combine(d, "held")));

    /// <summary>
    /// Kill 1 lands right after the first checkpoint is complete (in its pruning or the next step); kill 2 mid-step, held
    /// by <see cref="FaultHold.StepVariable"/> after the forward pass of the step after that checkpoint; kill 3 mid-write
    /// of the next checkpoint, held by <see cref="FaultHold.CheckpointVariable"/> after the trainer's files and before the
    /// state file and marker, while a second run on the same folder is refused by the lock. The run is then resumed to
    /// the end; its final checkpoint equals the uninterrupted run's bit for bit, and at every 10 ms observation every
    /// checkpoint folder on disk was complete or a temporary folder that is ignored.
    /// </summary>
    [Theory]
    [MemberData(nameof(TrainerFaultCases.Trainers), MemberType = typeof(TrainerFaultCases))]
    public void KilledThriceAndResumedEndsWithTheUninterruptedWeights(string trainer)
    {
        var reference = TrainerFaultCases.Checkpoints(cases.Reference(trainer));
        var outDir = Path.Combine(cases.Root, $"{trainer}-killed");
        var root = TrainerFaultCases.Checkpoints(outDir);
        void Observe() => TrainerFaultCases.AssertNoPartialCheckpoint(root);

        using (var first = CliProcess.Start(cases.Args(trainer, outDir)))
        {
            first.WaitUntil(() => CheckpointFolders.Latest(root) is not null, Observe, "a first complete checkpoint");
            first.Kill();
        }
        Observe();
        long after1 = CheckpointFolders.Complete(root)[^1].Step;
        Assert.True(after1 < TrainerFaultCases.Steps, $"the first run reached step {after1} before the kill");

        string midStep = (after1 + 1).ToString(CultureInfo.InvariantCulture);
        using (var second = CliProcess.Start(cases.Args(trainer, outDir, resume: true), new Dictionary<string, string> { [FaultHold.StepVariable] = midStep }))
        {
            second.WaitUntil(() => second.Output.Contains($"fault hold: step {midStep}", StringComparison.Ordinal), Observe, $"the hold in step {midStep}");
            second.Kill();
        }
        Observe();
        Assert.Equal(after1, CheckpointFolders.Complete(root)[^1].Step);

        long held = after1 + TrainerFaultCases.Every;
        using (var third = CliProcess.Start(cases.Args(trainer, outDir, resume: true),
                   new Dictionary<string, string> { [FaultHold.CheckpointVariable] = held.ToString(CultureInfo.InvariantCulture) }))
        {
            third.WaitUntil(() => HeldCheckpointWrite(root) is not null, Observe, $"the held write of checkpoint {held}");
            var refused = RunInProcess(cases.Args(trainer, outDir, resume: true));
            Assert.Equal(2, refused.Code);
            Assert.Contains(OutputFolderLock.FileName, refused.Err);
            Assert.Single(refused.Err.Trim().Split('\n'));
            third.Kill();
        }
        Observe();
        Assert.NotNull(HeldCheckpointWrite(root)); // the half-written folder is on disk ...
        Assert.Equal(after1, CheckpointFolders.Complete(root)[^1].Step); // ... and ignored

        using (var last = CliProcess.Start(cases.Args(trainer, outDir, resume: true)))
            Assert.True(last.Finish(Observe) == 0, last.Output);
        Observe();
        Assert.Empty(Directory.GetDirectories(root, ".tmp-*"));
        var (step, final) = CheckpointFolders.Complete(root)[^1];
        Assert.Equal(TrainerFaultCases.Steps, step);
        TrainerFaultCases.AssertBitIdentical(CheckpointFolders.Latest(reference)!, final);
    }

    /// <summary>
    /// As root on Linux: the run trains into a tmpfs with room for two and a half checkpoints, so the third (keep = 2)
    /// cannot be written. The CLI stops with exit code 2 and one line naming the path and the lack of space; the previous
    /// checkpoint is complete and its files load.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(TrainerFaultCases.Trainers), MemberType = typeof(TrainerFaultCases))]
    public void AFullDiskStopsWithAClearErrorAndKeepsThePreviousCheckpoint(string trainer)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "mounting a size-limited tmpfs needs Linux");
        Skip.IfNot(Environment.UserName == "root", "mounting a size-limited tmpfs needs root");
        var reference = CheckpointFolders.Latest(TrainerFaultCases.Checkpoints(cases.Reference(trainer)))!;
        long pages = Directory.GetFiles(reference, "*", SearchOption.AllDirectories).Sum(f => (new FileInfo(f).Length + 4095) / 4096);
        long sizeKiB = (pages * 5 / 2 + 4) * 4; // 2.5 checkpoints and the lock file
        var mount = Path.Combine(cases.Root, $"{trainer}-tmpfs");
        Directory.CreateDirectory(mount);
        Shell("mount", "-t", "tmpfs", "-o", $"size={sizeKiB}k", "tmpfs", mount);
        try
        {
            var outDir = Path.Combine(mount, "run");
            var r = RunInProcess(cases.Args(trainer, outDir));
            Assert.Equal(2, r.Code);
            Assert.Single(r.Err.Trim().Split('\n'));
            Assert.Contains("no space", r.Err, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(mount, r.Err);
            var root = TrainerFaultCases.Checkpoints(outDir);
            TrainerFaultCases.AssertNoPartialCheckpoint(root);
            Assert.Empty(Directory.GetDirectories(root, ".tmp-*"));
            var (step, previous) = CheckpointFolders.Complete(root)[^1];
            Assert.Equal(2 * TrainerFaultCases.Every, step);
            foreach (var file in TrainerFaultCases.WeightFiles(previous).Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".pth", StringComparison.Ordinal)))
                foreach (var t in StateDict.Load(Path.Combine(previous, file)).Values) t.Dispose();
        }
        finally
        {
            Shell("umount", mount);
        }
    }

    [Fact]
    public void ASecondLockOnTheFolderFailsNamingTheLockFileUntilTheFirstIsReleased()
    {
        var folder = Path.Combine(cases.Root, "lock-run");
        using (var first = OutputFolderLock.Acquire(folder))
        {
            Assert.Equal(Path.Combine(folder, OutputFolderLock.FileName), first.LockFile);
            var e = Assert.Throws<OutputFolderLockedException>(() => OutputFolderLock.Acquire(folder));
            Assert.Contains(first.LockFile, e.Message);
            Assert.Equal(folder, e.Folder);
        }
        Assert.True(File.Exists(Path.Combine(folder, OutputFolderLock.FileName)), "the lock file stays, unlocked");
        using var again = OutputFolderLock.Acquire(folder);
    }

    /// <summary>Two tours and two trains of each kind on one folder: the second refuses at once with exit code 2 and one
    /// line naming the lock file (the first is stood in for by a lock this test holds).</summary>
    [Theory]
    [InlineData("tour", "--budget", "smoke")]
    [InlineData("diffusion", "train", "--steps", "1")]
    [InlineData("vqvae", "train", "--steps", "1")]
    [InlineData("sam", "train", "--steps", "1")]
    [InlineData("classifier", "train", "--images", "32")]
    public void ASecondRunOnTheSameOutputFolderIsRefused(params string[] command)
    {
        var folder = Path.Combine(cases.Root, $"lock-{command[0]}");
        using var held = OutputFolderLock.Acquire(folder);
        var before = Directory.GetFileSystemEntries(folder);
        var r = RunInProcess([.. command, "--out", folder]);
        Assert.Equal(2, r.Code);
        Assert.Contains(held.LockFile, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Equal(before, Directory.GetFileSystemEntries(folder));
    }

    static void Shell(string command, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(start)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{command} {string.Join(' ', args)}: {err}");
    }
}
