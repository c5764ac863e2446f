using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.CompilerServices;
using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;

namespace SharpVision.Cli.CommandLine;

/// <summary>
/// The <c>sharpvision</c> command tree on System.CommandLine: one subcommand per <see cref="ICommand"/> ("algo anagram" is
/// <c>anagram</c> under <c>algo</c>), generated --help, the <c>[suggest]</c> directive for shell completion. A user error —
/// a parse error or an exception <see cref="IsUserError"/> accepts — is one <c>error:</c> line on stderr and exit code 2.
/// </summary>
public sealed class CommandLineApp
{
    public const int UserError = 2;
    const string Tool = "sharpvision";

    // The tree is built once per command list: the commands' options are static, and a System.CommandLine symbol records
    // every command it is added to, so building a tree per run (each test builds an app) would grow those lists from
    // several threads at once.
    static readonly ConditionalWeakTable<IReadOnlyList<ICommand>, RootCommand> Trees = [];

    readonly IReadOnlyList<ICommand> commands;
    readonly RootCommand root;

    public CommandLineApp(IReadOnlyList<ICommand> commands)
    {
        this.commands = commands;
        lock (Trees) root = Trees.GetValue(commands, Build);
    }

    public int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        // No '@file' response files and no bundling of one-letter options: every word means what it says, as it did.
        var result = root.Parse(args is ["help"] ? ["--help"] : args, new ParserConfiguration { ResponseFileTokenReplacer = null, EnablePosixBundling = false });
        if (result.Action is ParseErrorAction)
        {
            if (result.CommandResult.Command.Subcommands.Count > 0)
            {
                stderr.WriteLine($"unknown command: {string.Join(' ', args)}\n\n{Overview()}");
                return UserError;
            }
            return Report(new UsageException(Describe(result)), stderr);
        }
        try
        {
            return result.Invoke(new InvocationConfiguration
            {
                Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Report(e, stderr);
        }
    }

    /// <summary>Failures caused by what the user gave us (arguments, files) or their machine (a full disk, a folder another
    /// run holds), and a diverged training run, as opposed to bugs.</summary>
    public static bool IsUserError(Exception e) => e is UsageException or IdxFormatException or FileNotFoundException
        or DirectoryNotFoundException or CheckpointMismatchException or InvalidDataException or ArgumentException
        or System.Text.Json.JsonException or TrainingDivergedException or OutputFolderLockedException
        || CheckpointFolders.IsDiskFull(e);

    static int Report(Exception e, TextWriter stderr)
    {
        stderr.WriteLine($"error: {OneLine(e.Message)}");
        if (Environment.GetEnvironmentVariable("SHARPVISION_DEBUG") is "1") stderr.WriteLine(e);
        return UserError;
    }

    /// <summary>A message on one line: control characters from a file (a tensor named "a\nb") are shown escaped.</summary>
    static string OneLine(string message) =>
        string.Concat(message.Select(c => char.IsControl(c) ? c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => $"\\u{(int)c:X4}" } : c.ToString()));

    /// <summary>The first thing wrong with a command line, worded as the commands word their own checks.</summary>
    static string Describe(ParseResult result)
    {
        var command = result.CommandResult.Command;
        var positionals = command.Arguments.SelectMany(a => result.GetResult(a)?.Tokens ?? []).Select(t => t.Value)
            .Concat(result.UnmatchedTokens).ToList();
        var unknown = positionals.Where(t => t.StartsWith("--", StringComparison.Ordinal) && t.Length > 2).Select(t => t.Split('=')[0]).ToList();
        if (unknown.Count > 0) return $"unknown option(s): {string.Join(", ", unknown)}";
        if (command.Options.FirstOrDefault(o => o.Required && result.GetResult(o) is null or { IdentifierTokenCount: 0 }) is { } missing) return $"{missing.Name} is required";
        if (command.Arguments.Count == 0 && positionals.Count > 0) return $"unexpected argument(s): {string.Join(' ', positionals)}";
        if (positionals.Count != command.Arguments.Count)
            return $"expected {command.Arguments.Count} argument(s) {string.Join(' ', command.Arguments.Select(a => a.Name))}; got {positionals.Count}";
        var error = result.Errors[0];
        return error.SymbolResult is OptionResult { Tokens.Count: 0, IdentifierTokenCount: > 0 } option ? $"{option.Option.Name} needs a value" : error.Message;
    }

    RootCommand Build(IReadOnlyList<ICommand> list)
    {
        var tree = new RootCommand("deep-learning components on TorchSharp") { HelpName = Tool };
        tree.SetAction(r => { r.InvocationConfiguration.Output.WriteLine(Overview()); return 0; });
        foreach (var c in list)
        {
            var words = c.Name.Split(' ');
            Command parent = tree;
            foreach (var word in words[..^1])
            {
                var group = parent.Subcommands.FirstOrDefault(s => s.Name == word);
                if (group is null) parent.Add(group = new Command(word, $"the {word} commands"));
                parent = group;
            }
            var command = new Command(words[^1], c.Notes is null ? c.Summary : $"{c.Summary}\n\n{c.Notes}");
            foreach (var symbol in c.Symbols.Distinct())
            {
                if (symbol is Option option) command.Add(option);
                else command.Add((Argument)symbol);
            }
            command.SetAction(c.Run);
            parent.Add(command);
        }
        tree.Options.OfType<HelpOption>().Single().Action = new HelpText(this);
        return tree;
    }

    /// <summary>--help, generated from the command's symbols: the usage line in the project's form
    /// (<c>usage: sharpvision vqvae reconstruct --checkpoint DIR [options]</c>), the summary and notes, the arguments and
    /// options with their defaults; for a group (or no command) the list of the commands under it.</summary>
    sealed class HelpText(CommandLineApp app) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var command = parseResult.CommandResult.Command;
            var output = parseResult.InvocationConfiguration.Output;
            if (command.Subcommands.Count > 0)
            {
                var prefix = command is RootCommand ? "" : Path(command)[(Tool.Length + 1)..] + " ";
                output.WriteLine(command is RootCommand ? app.Overview() : CommandLines(app.commands.Where(c => c.Name.StartsWith(prefix, StringComparison.Ordinal))));
                return 0;
            }
            var required = command.Options.Where(o => o.Required).Select(o => $"{o.Name} {o.HelpName}");
            output.WriteLine($"usage: {string.Join(' ', command.Arguments.Select(a => a.Name).Concat(required).Prepend(Path(command)))} [options]");
            output.WriteLine();
            output.WriteLine(command.Description);
            var rows = command.Arguments.Select(a => (Name: a.Name, Text: a.Description ?? ""))
                .Concat(command.Options.Where(o => !o.Hidden).Select(o => (Name: $"{o.Name} {o.HelpName}".TrimEnd(), Text: Describe(o))))
                .Append((Name: "-h, --help", Text: "show this help"))
                .ToList();
            int width = rows.Max(r => r.Name.Length);
            output.WriteLine();
            var indent = "\n" + new string(' ', width + 4);
            foreach (var (name, text) in rows) output.WriteLine($"  {name.PadRight(width)}  {string.Join(indent, Wrap(text, Math.Max(40, 120 - width - 4)))}");
            return 0;
        }

        /// <summary>The words of <paramref name="text"/> in lines of at most <paramref name="columns"/> characters.</summary>
        static IEnumerable<string> Wrap(string text, int columns)
        {
            var line = "";
            foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.Length > 0 && line.Length + 1 + word.Length > columns) { yield return line; line = ""; }
                line = line.Length == 0 ? word : $"{line} {word}";
            }
            yield return line;
        }

        static string Describe(Option o)
        {
            var text = o.Description ?? "";
            if (o.Required) return text + " (required)";
            if (o.HasDefaultValue && !text.Contains("default", StringComparison.Ordinal) && o.ValueType != typeof(bool) && o.GetDefaultValue() is { } value and not string[])
                text += $" (default {(value is int[] list ? string.Join(',', list) : Convert.ToString(value, CultureInfo.InvariantCulture))})";
            return text;
        }
    }

    static string Path(Command command)
    {
        var words = new List<string>();
        for (Symbol? s = command; s is Command c and not RootCommand; s = s.Parents.FirstOrDefault()) words.Insert(0, c.Name);
        return string.Join(' ', words.Prepend(Tool));
    }

    static string CommandLines(IEnumerable<ICommand> list)
    {
        var shown = list.ToList();
        var width = shown.Max(c => c.Name.Length);
        return "Commands:\n" + string.Join('\n', shown.Select(c => $"  {c.Name.PadRight(width)}  {c.Summary}")) +
               $"\n\nRun '{Tool} COMMAND --help' for a command's options.";
    }

    string Overview() => $"{Tool} — deep-learning components on TorchSharp\n\n{CommandLines(commands)}";
}
