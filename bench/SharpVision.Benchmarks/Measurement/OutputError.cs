using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Measurement;

/// <summary>The error of a reduced-precision output against the float32 computation on the same weights and input.</summary>
static class OutputError
{
    /// <summary>Prints max and mean |output − reference|, the max also relative to max |reference|.</summary>
    /// <param name="what">What was computed, e.g. "UNet BFloat16".</param>
    public static void Print(string what, Tensor output, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var diff = (output.to(ScalarType.Float32) - reference).abs();
        double maxAbs = diff.max().item<float>(), scale = reference.abs().max().item<float>();
        Console.WriteLine($"// {what}: max |error| vs Fp32 {maxAbs:G3} ({maxAbs / scale:P2} of max |output|), mean |error| {diff.mean().item<float>():G3}");
    }
}
