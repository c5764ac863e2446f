using System.Text.Json.Nodes;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Short names for the samplers people ask for by name (the web UIs' "DPM++ 2M Karras"), each a scheduler class plus
/// the config keys that make it that sampler, applied on top of a model's own scheduler_config.json so the trained noise
/// schedule is kept (diffusers' <c>Scheduler.from_config(pipe.scheduler.config, use_karras_sigmas=True)</c>).
/// A full diffusers class name (<c>EulerDiscreteScheduler</c>) is accepted as well.
/// </summary>
public static class SchedulerPresets
{
    /// <summary>A named sampler: the class and the config keys it sets.</summary>
    public sealed record Preset(string Name, string ClassName, IReadOnlyDictionary<string, JsonNode?> Overrides);

    static Preset P(string name, string className, params (string Key, JsonNode? Value)[] overrides) =>
        new(name, className, overrides.ToDictionary(o => o.Key, o => o.Value));

    static readonly Preset[] All =
    [
        P("ddim", "DDIMScheduler"),
        P("ddpm", "DDPMScheduler"),
        P("pndm", "PNDMScheduler", ("skip_prk_steps", true)),
        P("lms", "LMSDiscreteScheduler"),
        P("euler", "EulerDiscreteScheduler"),
        P("euler-ancestral", "EulerAncestralDiscreteScheduler"),
        P("heun", "HeunDiscreteScheduler"),
        P("kdpm2", "KDPM2DiscreteScheduler"),
        P("kdpm2-ancestral", "KDPM2AncestralDiscreteScheduler"),
        P("dpm++2m", "DPMSolverMultistepScheduler", ("algorithm_type", "dpmsolver++"), ("solver_order", 2)),
        P("dpm++2m-karras", "DPMSolverMultistepScheduler", ("algorithm_type", "dpmsolver++"), ("solver_order", 2), ("use_karras_sigmas", true)),
        P("dpm++2m-sde", "DPMSolverMultistepScheduler", ("algorithm_type", "sde-dpmsolver++"), ("solver_order", 2)),
        P("dpm++3m", "DPMSolverMultistepScheduler", ("algorithm_type", "dpmsolver++"), ("solver_order", 3)),
        P("dpm-singlestep", "DPMSolverSinglestepScheduler"),
        P("unipc", "UniPCMultistepScheduler", ("solver_type", "bh2")),
        P("deis", "DEISMultistepScheduler"),
        P("lcm", "LCMScheduler"),
    ];

    /// <summary>The preset names, in the order above.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToList();

    /// <summary>A preset by short name (case-insensitive), or a diffusers class name with no overrides.</summary>
    /// <exception cref="ArgumentException">Neither a preset nor a known class; the message lists both.</exception>
    public static Preset Resolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var preset = All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        if (preset is not null) return preset;
        var className = SchedulerFactory.ClassNames.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
        return className is not null
            ? new Preset(className, className, new Dictionary<string, JsonNode?>())
            : throw new ArgumentException(
                $"unknown scheduler '{name}'; known: {string.Join(", ", Names)} or a class: {string.Join(", ", SchedulerFactory.ClassNames)}", nameof(name));
    }

    /// <summary>The named sampler on the noise schedule of a scheduler_config.json file (or a folder holding one).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    /// <exception cref="FileNotFoundException">No such config.</exception>
    public static IDiffusionScheduler FromConfigFile(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        var preset = Resolve(name);
        if (Directory.Exists(path)) path = Path.Combine(path, SchedulerConfigJson.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"scheduler config not found: {path}", path);
        return SchedulerFactory.Create(SchedulerFactory.ReadConfig(File.ReadAllText(path), preset.ClassName, path, preset.Overrides));
    }
}
