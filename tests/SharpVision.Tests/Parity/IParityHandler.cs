namespace SharpVision.Tests.Parity;

/// <summary>
/// Runs the fixture cases of one <c>kind</c>. Implementations are found by reflection, so a new kind
/// needs only a new handler class; a kind with no handler is reported as skipped.
/// </summary>
public interface IParityHandler
{
    /// <summary>The case.json <c>kind</c> values this handler runs.</summary>
    IReadOnlyCollection<string> Kinds { get; }

    /// <summary>Runs the case at one precision, asserting every expected tensor.</summary>
    void Run(ParityCase c, Precision p);
}
