using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Nn;

/// <summary>
/// <c>switch_norm</c> cases (tests/fixtures/sn): SwitchNorm1d/2d with the reference's state_dict (strict load),
/// two training steps (the first backpropagates <c>grad_output</c>), the state afterwards, then eval.
/// </summary>
public sealed class SwitchNormParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = ["switch_norm"];

    public void Run(ParityCase c, Precision p)
    {
        int features = (int)(c.Long("num_features") ?? throw new InvalidDataException($"{c.Name}: no num_features"));
        double eps = c.Double("eps") ?? 1e-5;
        double momentum = c.Double("momentum") ?? throw new InvalidDataException($"{c.Name}: no momentum");
        bool movingAverage = c.Bool("using_moving_average", true);
        nn.Module<Tensor, Tensor> layer = c.String("class") switch
        {
            "SwitchNorm1d" => new SwitchNorm1d(features, eps, momentum, movingAverage, p.Dtype),
            "SwitchNorm2d" => new SwitchNorm2d(features, eps, momentum, movingAverage, c.Bool("using_bn", true), dtype: p.Dtype),
            var other => throw new InvalidDataException($"{c.Name}: unknown class '{other}'"),
        };
        var stateIn = c.TensorNames.Where(n => n.StartsWith("state_in.", StringComparison.Ordinal))
            .ToDictionary(n => n["state_in.".Length..], c.Raw);
        StateDict.LoadInto(layer, stateIn, strict: true, source: $"{c.Name} state_in");

        layer.train();
        long steps = c.Long("train_steps") ?? 2;
        for (int step = 0; step < steps; step++)
        {
            var input = c.Input($"input_train{step}", p).detach().requires_grad_(step == 0);
            var output = layer.forward(input);
            c.Expect($"expected_output_train{step}", output, p);
            if (step != 0) continue;
            output.backward([c.Input("grad_output", p)]);
            c.Expect("expected_grad_input", input.grad!, p);
            foreach (var (name, parameter) in layer.named_parameters())
                c.Expect($"expected_grad.{name}", parameter.grad!, p);
        }
        foreach (var (name, value) in layer.state_dict())
            c.Expect($"state_after_train.{name}", value, p);

        layer.eval();
        using (no_grad())
            c.Expect("expected_output_eval", layer.forward(c.Input("input_eval", p)), p);
    }
}
