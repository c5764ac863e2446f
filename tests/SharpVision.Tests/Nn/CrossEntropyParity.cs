using SharpVision.Nn.Losses;

namespace SharpVision.Tests.Nn;

/// <summary>
/// <c>cross_entropy</c> cases (tests/fixtures/nn/ce_*): the loss of <c>input</c> against <c>target</c> with the
/// case's options, and the input gradient of <c>loss · grad_output</c>.
/// </summary>
public sealed class CrossEntropyParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = ["cross_entropy"];

    public void Run(ParityCase c, Precision p)
    {
        var input = c.Input("input", p).detach().requires_grad_(true);
        var target = c.Input("target", p);
        var weight = c.Bool("has_weight") ? c.Input("weight", p) : null;
        var loss = new CrossEntropyLoss(
            weight,
            ignoreIndex: c.Long("ignore_index") ?? -100,
            reduction: Reductions.Parse(c.String("reduction") ?? "mean"),
            labelSmoothing: c.Double("label_smoothing") ?? 0.0);

        var value = loss.forward(input, target);
        c.Expect("expected_loss", value, p);
        value.backward([c.Input("grad_output", p)]);
        c.Expect("expected_grad_input", input.grad!, p);
    }
}
