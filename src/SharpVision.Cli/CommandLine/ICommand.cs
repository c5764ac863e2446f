namespace SharpVision.Cli.CommandLine;

/// <summary>One <c>sharpvision</c> command. Commands parse, call the library and report; they hold no model logic.</summary>
public interface ICommand
{
    /// <summary>The words that select it, e.g. "algo anagram".</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>Usage text shown with --help and after a usage error.</summary>
    string Usage { get; }

    /// <summary>Runs the command; returns the process exit code.</summary>
    /// <exception cref="UsageException">Bad arguments or input (exit code 2).</exception>
    int Run(Arguments args);
}
