using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Nn.Layers;

/// <summary>
/// torch.nn.Linear (y = x Wᵀ + b; <c>weight</c> (out, in) and <c>bias</c> (out), the same state_dict keys and default
/// initialisation) that sends large inputs through oneDNN: the rows of x, seen as a channels-last (1, in, 1, rows) map,
/// go through a 1×1 convolution, a view in and a view out.
/// </summary>
/// <remarks>
/// Written because libtorch 2.10's CPU matmul (addmm) reaches 117–136 GFLOP/s in float32 on this machine's AMD EPYC
/// where oneDNN's convolution of the same product reaches 180–200 (bfloat16 340 against 385): measured for SAM's
/// (4096 × 768)·(768 × 2304) and TinyViT's shapes. Below <see cref="MinRowsForOneDnn"/> rows (a prompt's few decoder
/// tokens) and for other dtypes or devices addmm is faster or the only path, and runs. The results are those of a
/// float32 matmul, to rounding (4.8e-6 at most for SAM's shapes).
/// </remarks>
public sealed class OneDnnLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>Inputs with fewer rows (product of the leading dimensions) than this run as an addmm.</summary>
    public const long MinRowsForOneDnn = 256;

    /// <summary>Whether libtorch sends a convolution on <paramref name="x"/> through oneDNN: float32 or bfloat16 on the CPU.</summary>
    public static bool OneDnnTakes(Tensor x) => x.dtype is (ScalarType.Float32 or ScalarType.BFloat16) && x.device_type == DeviceType.CPU;

    public readonly Parameter weight;
    public readonly Parameter? bias;
    public readonly long in_features;
    public readonly long out_features;

    /// <param name="inFeatures">Input width.</param>
    /// <param name="outFeatures">Output width.</param>
    /// <param name="hasBias">Whether to add a learned bias.</param>
    public OneDnnLinear(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(OneDnnLinear))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        in_features = inFeatures;
        out_features = outFeatures;
        // torch.nn.Linear's own initialisation, drawn from the global generator in its order.
        using (var init = nn.Linear(inFeatures, outFeatures, hasBias))
        using (no_grad())
        {
            weight = new Parameter(init.weight!.detach().clone());
            bias = init.bias is { } b ? new Parameter(b.detach().clone()) : null;
        }
        RegisterComponents();
    }

    /// <param name="x">(..., in_features).</param>
    /// <returns>(..., out_features).</returns>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() == 0 || x.shape[^1] != in_features)
            throw new ArgumentException($"x must end in {in_features} features; got {Shapes.Format(x)}", nameof(x));
        long rows = x.numel() / in_features;
        if (rows < MinRowsForOneDnn || !OneDnnTakes(x))
            return nn.functional.linear(x, weight, bias);
        using var scope = NewDisposeScope();
        var map = x.reshape(1, 1, rows, in_features).permute(0, 3, 1, 2);             // (1, in, 1, rows), channels-last
        var y = nn.functional.conv2d(map, weight.view(out_features, in_features, 1, 1), bias); // (1, out, 1, rows)
        long[] shape = [.. x.shape[..^1], out_features];
        return y.permute(0, 2, 3, 1).reshape(shape).MoveToOuterDisposeScope();
    }
}
