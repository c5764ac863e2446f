using System.CommandLine;

namespace SharpVision.Cli.CommandLine;

/// <summary>One <c>sharpvision</c> command. Commands parse, call the library and report; they hold no model logic.</summary>
public interface ICommand
{
    /// <summary>The words that select it, e.g. "algo anagram" (a subcommand of "algo").</summary>
    string Name { get; }

    /// <summary>One line for the command list; also the start of the command's --help.</summary>
    string Summary { get; }

    /// <summary>What --help shows after the summary (null when the summary and the options say it all).</summary>
    string? Notes => null;

    /// <summary>The options and arguments it takes (<see cref="Opt"/> makes them); System.CommandLine parses them, writes
    /// --help and completions from them, and reports what does not parse.</summary>
    IEnumerable<Symbol> Symbols { get; }

    /// <summary>Runs the command on its parsed arguments; returns the process exit code.</summary>
    /// <exception cref="UsageException">Bad arguments or input (exit code 2).</exception>
    int Run(ParseResult args);
}
