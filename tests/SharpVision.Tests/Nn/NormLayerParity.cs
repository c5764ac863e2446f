using SharpVision.Nn.Checkpoints;
using SharpVision.Nn.Normalization;

namespace SharpVision.Tests.Nn;

/// <summary>
/// <c>norm_layer</c> cases (tests/fixtures/nn): the layer built from params with the reference's state_dict
/// (<c>state_in.*</c>, loaded strictly so the key names must match), one training step (output, input and parameter
/// gradients, state afterwards), then an eval step.
/// </summary>
public sealed class NormLayerParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds { get; } = ["norm_layer"];

    public static nn.Module<Tensor, Tensor> Build(ParityCase c, ScalarType dtype)
    {
        int features = (int)(c.Long("num_features") ?? throw new InvalidDataException($"{c.Name}: no num_features"));
        double eps = c.Double("eps") ?? 1e-5;
        bool affine = c.Bool("affine", true);
        bool track = c.Bool("track", true);
        double? momentum = c.Double("momentum");
        return c.String("layer") switch
        {
            "BatchNorm1d" => new BatchNorm1d(features, eps, momentum, affine, track, dtype),
            "BatchNorm2d" => new BatchNorm2d(features, eps, momentum, affine, track, dtype),
            "InstanceNorm2d" => new InstanceNorm2d(features, eps, momentum ?? 0.1, affine, track, dtype),
            "GroupNorm" => new GroupNorm((int)(c.Long("groups") ?? 1), features, eps, affine, dtype),
            "LayerNorm" => new LayerNorm(
                [.. c.Params.GetProperty("normalized").EnumerateArray().Select(e => e.GetInt64())], eps, affine, dtype),
            var other => throw new InvalidDataException($"{c.Name}: unknown layer '{other}'"),
        };
    }

    public void Run(ParityCase c, Precision p)
    {
        var layer = Build(c, p.Dtype);
        var stateIn = c.TensorNames.Where(n => n.StartsWith("state_in.", StringComparison.Ordinal))
            .ToDictionary(n => n["state_in.".Length..], c.Raw);
        StateDict.LoadInto(layer, stateIn, strict: true, source: $"{c.Name} state_in");

        layer.train();
        var input = c.Input("input_train", p).detach().requires_grad_(true);
        var output = layer.forward(input);
        c.Expect("expected_output_train", output, p);
        output.backward([c.Input("grad_output", p)]);
        c.Expect("expected_grad_input", input.grad!, p);
        foreach (var (name, parameter) in layer.named_parameters())
            c.Expect($"expected_grad.{name}", parameter.grad!, p);
        foreach (var (name, value) in layer.state_dict())
            c.Expect($"state_after_train.{name}", value, p);

        layer.eval();
        using (no_grad())
            c.Expect("expected_output_eval", layer.forward(c.Input("input_eval", p)), p);
    }
}
