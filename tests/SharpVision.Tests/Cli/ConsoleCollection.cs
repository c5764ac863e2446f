namespace SharpVision.Tests.Cli;

/// <summary>CLI tests share Spectre.Console's single live display, so they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
