using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;

namespace SharpVision.Tests.Testing;

/// <summary>The <c>sharpvision</c> CLI run in this process on every command, with its stdout and stderr captured
/// (line endings as "\n").</summary>
public static class InProcessCli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new CommandLineApp(Commands.All).Run(args, stdout, stderr);
        return (code, stdout.ToString().ReplaceLineEndings("\n"), stderr.ToString().ReplaceLineEndings("\n"));
    }
}
