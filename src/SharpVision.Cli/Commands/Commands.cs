using SharpVision.Cli.CommandLine;

namespace SharpVision.Cli.Commands;

/// <summary>Every command of the CLI, in the order the overview lists them.</summary>
public static class Commands
{
    public static IReadOnlyList<ICommand> All { get; } =
    [
    ];
}
