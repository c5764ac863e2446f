using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;

namespace SharpVision.Tests.Tour;

/// <summary>One <c>sharpvision tour --budget smoke</c> run shared by the tour tests (about half a minute).</summary>
public sealed class SmokeTourFixture : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("sv-tour-").FullName;
    public int ExitCode { get; }
    public string Stdout { get; }
    public string Stderr { get; }

    public SmokeTourFixture()
    {
        (ExitCode, Stdout, Stderr) = Run("tour", "--budget", "smoke", "--out", Dir);
    }

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new CommandLineApp(Commands.All).Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
