using System.Diagnostics;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// Where MobileSAM's vit_t (TinyViT) image encoder's time goes (<c>-- --mobilesam-encoder-profile</c>): forward hooks on
/// every submodule time seven warm 1024² float32 forwards in inference mode (the table is their mean), each module's
/// own time summed by its type, so "TinyViTAttention" is the attention core and "TinyViTBlock" the window partition,
/// residuals and reshapes. Not BenchmarkDotNet: a few calls after a warm-up, to show the shares.
/// </summary>
static class MobileSamEncoderProfile
{
    public static int Run()
    {
        bool reuse = Environment.GetEnvironmentVariable("SHARPVISION_DEFAULT_HEAP") != "1" && SharpVision.Nn.Memory.NativeHeap.KeepFreedBlocksForReuse();
        torch.manual_seed(0);
        Console.WriteLine($"// glibc heap: {(reuse ? "freed blocks kept for reuse" : "defaults")}; torch threads: {torch.get_num_threads()}");
        using var sam = SamModel.Build(SamConfig.VitT);
        var encoder = sam.image_encoder;
        using var input = randn(1, 3, 1024, 1024);
        var timer = new ModuleTimer();
        foreach (var (name, module) in encoder.named_modules())
            if (module is Conv2d_BN { c: var conv } convBn)
                timer.Hook(convBn, $"Conv2d_BN {conv.in_channels}→{conv.out_channels} k{conv.kernel_size[0]} s{conv.stride[0]} groups {conv.groups}");
            else if (module is TorchSharp.Modules.GELU or SharpVision.Nn.Activations.Gelu) timer.Hook((nn.Module<Tensor, Tensor>)module, "GELU " + System.Text.RegularExpressions.Regex.Replace(name, @"\.\d+", ""));
            else if (module is SharpVision.Nn.Layers.OneDnnLinear linear) timer.Hook(linear, $"linear {linear.in_features}→{linear.out_features}");
            else if (module is nn.Module<Tensor, Tensor> m) timer.Hook(m, m.GetType().Name);
        timer.Hook(encoder, encoder.GetType().Name);

        using var inference = inference_mode();
        for (int i = 0; i < 2; i++) using (NewDisposeScope()) encoder.call(input); // warm-up
        timer.Clear();
        const int calls = 7;
        var totals = new List<double>();
        for (int i = 0; i < calls; i++)
        {
            var wall = Stopwatch.StartNew();
            using (NewDisposeScope()) encoder.call(input);
            totals.Add(wall.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"vit_t encoder, 1024², fp32, {calls} calls: median {totals.Order().ElementAt(calls / 2) / 1000:F3} s, fastest {totals.Min() / 1000:F3} s " +
                          $"({string.Join(", ", totals.Select(t => $"{t / 1000:F3}"))}); each module type's own time per call:");
        timer.Print(totals.Sum(), calls: calls);
        return 0;
    }
}
