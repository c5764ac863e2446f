namespace SharpVision.Cli.CommandLine;

/// <summary>A user error the CLI reports as one line on stderr with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
