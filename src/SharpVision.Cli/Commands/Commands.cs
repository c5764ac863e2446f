using SharpVision.Cli.CommandLine;

namespace SharpVision.Cli.Commands;

/// <summary>Every command of the CLI: each <see cref="ICommand"/> in this assembly, ordered by name.</summary>
public static class Commands
{
    public static IReadOnlyList<ICommand> All { get; } = typeof(Commands).Assembly.GetTypes()
        .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(ICommand).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (ICommand)Activator.CreateInstance(t)!)
        .OrderBy(c => c.Name, StringComparer.Ordinal)
        .ToList();
}
