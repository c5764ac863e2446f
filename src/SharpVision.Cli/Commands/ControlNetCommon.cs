using System.CommandLine;
using SharpVision.Cli.CommandLine;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Experiments.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Cli.Commands;

/// <summary>Loading shared by the <c>sharpvision controlnet</c> commands.</summary>
static class ControlNetCommon
{
    public static readonly Option<string> ControlNet = Opt.Required("--controlnet", "DIR",
        "a ControlNet written by 'controlnet train' (its controlnet/ folder)");
    public static readonly Option<string> Scheduler = Opt.Text("--scheduler", "PATH",
        "scheduler folder or scheduler_config.json (default: scheduler/ beside the --base folder)");

    /// <summary>Loads <c>--base DIR</c> (a diffusers UNet2DModel folder, e.g. a training run's ema/).</summary>
    public static UNet2DModel LoadBase(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--base: folder not found: {dir}");
        var unet = UNet2DModel.FromPretrained(dir);
        if (unet.Config.InChannels != 1)
        {
            unet.Dispose();
            throw new UsageException($"--base: edge ControlNets need a 1-channel (greyscale) UNet; {dir} has in_channels {unet.Config.InChannels}");
        }
        return unet;
    }

    /// <summary>Loads <c>--controlnet DIR</c> and checks it against <paramref name="unet"/> (errors name both sides).</summary>
    public static UNet2DControlNet LoadControlNet(ParseResult args, UNet2DModel unet)
    {
        var dir = args.GetValue(ControlNet)!;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--controlnet: folder not found: {dir}");
        var net = UNet2DControlNet.FromPretrained(dir);
        try
        {
            net.RequireCompatible(unet);
        }
        catch (ArgumentException e)
        {
            net.Dispose();
            throw new UsageException($"--controlnet {dir} does not fit --base {args.GetValue<string>("--base")}: {e.Message}");
        }
        return net;
    }

    /// <summary>The <c>--scheduler</c> folder or file; default: the scheduler/ folder beside the <c>--base</c> folder.</summary>
    public static string SchedulerPath(ParseResult args, string baseDir)
    {
        var path = args.GetValue(Scheduler) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(baseDir))!, "scheduler");
        if (!Directory.Exists(path) && !File.Exists(path))
            throw new FileNotFoundException($"--scheduler: not found: {path} (give --scheduler DIR with scheduler_config.json)", path);
        return path;
    }

    /// <summary>Reads a condition image for <paramref name="net"/> and <paramref name="unet"/>: greyscale (R = G = B) for a
    /// 1-channel ControlNet, binarised at half intensity, of exactly the size the ControlNet takes.</summary>
    /// <returns>(1, channels, H, W) in {0, 1} (1 channel) or [0, 1] (3 channels).</returns>
    /// <exception cref="UsageException">Wrong size or channel count (both sides named).</exception>
    public static Tensor LoadCondition(string path, UNet2DControlNet net, UNet2DModel unet)
    {
        var (rgb, h, w) = Images.LoadRgb(path);
        int sample = unet.Config.SampleSize is [int s, ..] ? s : h / net.controlnet_cond_embedding.DownsampleFactor;
        int expected = sample * net.controlnet_cond_embedding.DownsampleFactor;
        if (h != expected || w != expected)
            throw new UsageException($"--cond {path} is {w}x{h}; the ControlNet takes {expected}x{expected} conditions " +
                $"(sample size {sample} x conditioning factor {net.controlnet_cond_embedding.DownsampleFactor})");
        bool grey = true;
        for (int i = 0; i < rgb.Length && grey; i += 3) grey = rgb[i] == rgb[i + 1] && rgb[i] == rgb[i + 2];
        if (net.ConditioningChannels == 1 && !grey)
            throw new UsageException($"--cond {path} is a colour image (3 channels); the ControlNet takes 1-channel (greyscale edge map) conditions");
        if (net.ConditioningChannels != 1 && net.ConditioningChannels != 3)
            throw new UsageException($"--cond: the ControlNet takes {net.ConditioningChannels}-channel conditions; images give 1 (grey) or 3 (RGB)");
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(rgb, [1, h, w, 3]).permute(0, 3, 1, 2).to(ScalarType.Float32) / 255.0; // (1, 3, H, W)
        if (net.ConditioningChannels == 1) t = (t.narrow(1, 0, 1) > 0.5).to(ScalarType.Float32); // (1, 1, H, W) binary
        return t.MoveToOuterDisposeScope();
    }
}
