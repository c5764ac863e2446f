using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;

namespace SharpVision.Cli.CommandLine;

/// <summary>Selects a command by its words, runs it, and turns user errors into one stderr line and exit code 2.</summary>
public sealed class CommandLineApp(IReadOnlyList<ICommand> commands)
{
    public const int UserError = 2;

    public int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var match = commands
            .Select(c => (c, words: c.Name.Split(' ')))
            .Where(x => x.words.Length <= args.Length && x.words.SequenceEqual(args.Take(x.words.Length)))
            .OrderByDescending(x => x.words.Length)
            .FirstOrDefault();
        if (match.c is null)
        {
            bool asked = args.Length == 0 || args[0] is "--help" or "-h" or "help";
            (asked ? stdout : stderr).WriteLine(asked ? Overview() : $"unknown command: {string.Join(' ', args)}\n\n{Overview()}");
            return asked ? 0 : UserError;
        }
        var rest = args.Skip(match.words.Length).ToArray();
        try
        {
            var parsed = new Arguments(rest, FlagsOf(match.c), stdout, stderr);
            if (parsed.Help) { stdout.WriteLine(match.c.Usage); return 0; }
            return match.c.Run(parsed);
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("SHARPVISION_DEBUG") is "1") stderr.WriteLine(e);
            return UserError;
        }
    }

    /// <summary>A message on one line: control characters from a file (a tensor named "a\nb") are shown escaped.</summary>
    static string OneLine(string message) =>
        string.Concat(message.Select(c => char.IsControl(c) ? c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => $"\\u{(int)c:X4}" } : c.ToString()));

    static IEnumerable<string> FlagsOf(ICommand c) => c is IHasFlags f ? f.Flags : [];

    /// <summary>Failures caused by what the user gave us (arguments, files) or their machine (a full disk, a folder another
    /// run holds), and a diverged training run, as opposed to bugs.</summary>
    public static bool IsUserError(Exception e) => e is UsageException or IdxFormatException or FileNotFoundException
        or DirectoryNotFoundException or CheckpointMismatchException or InvalidDataException or ArgumentException
        or System.Text.Json.JsonException or TrainingDivergedException or OutputFolderLockedException
        || CheckpointFolders.IsDiskFull(e);

    string Overview()
    {
        var width = commands.Max(c => c.Name.Length);
        var lines = commands.Select(c => $"  {c.Name.PadRight(width)}  {c.Summary}");
        return "sharpvision — deep-learning components on TorchSharp\n\nCommands:\n" + string.Join('\n', lines) +
               "\n\nRun 'sharpvision COMMAND --help' for a command's options.";
    }
}

/// <summary>A command with options that take no value.</summary>
public interface IHasFlags
{
    IEnumerable<string> Flags { get; }
}
