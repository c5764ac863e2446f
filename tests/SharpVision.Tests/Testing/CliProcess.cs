using System.Diagnostics;
using System.Text;

namespace SharpVision.Tests.Testing;

/// <summary>The built <c>sharpvision</c> CLI (sharpvision.dll beside the test assembly) as a child process, with its output
/// collected; <see cref="Kill"/> sends SIGKILL on Unix. Children run libtorch on one thread (OMP_NUM_THREADS=1).</summary>
sealed class CliProcess : IDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();

    CliProcess(Process process) => this.process = process;

    /// <summary>Starts <c>dotnet sharpvision.dll ARGS</c> with <paramref name="environment"/> added.</summary>
    public static CliProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sharpvision.dll");
        Assert.True(File.Exists(dll), $"the CLI is not built beside the tests: {dll}");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var child = new CliProcess(Process.Start(start)!);
        child.process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child.process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child.process.BeginOutputReadLine();
        child.process.BeginErrorReadLine();
        return child;
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    /// <summary>Everything the child wrote to stdout and stderr so far.</summary>
    public string Output { get { lock (output) return output.ToString(); } }

    /// <summary>Waits up to <paramref name="milliseconds"/> for the child to exit.</summary>
    public bool WaitForExit(int milliseconds) => process.WaitForExit(milliseconds);

    /// <summary>The exit code, once exited.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>SIGKILL (on Unix) and wait until it is gone.</summary>
    public void Kill()
    {
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>Polls every 10 ms (the wait is on the child, so an early exit ends it) until <paramref name="done"/> holds,
    /// calling <paramref name="observe"/> at each poll; fails when the child exits first or after <paramref name="timeoutSeconds"/>.</summary>
    public void WaitUntil(Func<bool> done, Action observe, string what, int timeoutSeconds = 120)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            observe();
            if (done()) return;
            if (process.WaitForExit(10))
            {
                observe();
                if (done()) return;
                Assert.Fail($"the CLI exited ({process.ExitCode}) before {what}:\n{Output}");
            }
            if (clock.Elapsed.TotalSeconds > timeoutSeconds) Assert.Fail($"no {what} within {timeoutSeconds} s:\n{Output}");
        }
    }

    /// <summary>Waits for the child to exit, calling <paramref name="observe"/> every 10 ms; returns the exit code.</summary>
    public int Finish(Action observe, int timeoutSeconds = 120)
    {
        WaitUntil(() => process.HasExited, observe, "the end", timeoutSeconds);
        process.WaitForExit(); // flushes the output handlers
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) Kill();
        process.Dispose();
    }
}
