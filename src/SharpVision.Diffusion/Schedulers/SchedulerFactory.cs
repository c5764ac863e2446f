using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Builds a scheduler from its diffusers class name (<c>_class_name</c> of scheduler_config.json), and switches one
/// scheduler for another keeping the trained noise schedule, as diffusers' <c>Scheduler.from_config(other.config)</c> does.
/// </summary>
public static class SchedulerFactory
{
    sealed record Entry(Type ConfigType, Func<SchedulerConfig, IDiffusionScheduler> Create);

    // One line per scheduler class: its config record and constructor.
    static readonly Dictionary<string, Entry> Known = new(StringComparer.Ordinal)
    {
        ["LCMScheduler"] = new(typeof(LCMSchedulerConfig), c => new LCMScheduler((LCMSchedulerConfig)c)),
        ["PNDMScheduler"] = new(typeof(PNDMSchedulerConfig), c => new PNDMScheduler((PNDMSchedulerConfig)c)),
        ["DDIMScheduler"] = new(typeof(DDIMSchedulerConfig), c => new DDIMScheduler((DDIMSchedulerConfig)c)),
        ["DDIMInverseScheduler"] = new(typeof(DDIMInverseSchedulerConfig), c => new DDIMInverseScheduler((DDIMInverseSchedulerConfig)c)),
        ["DDPMScheduler"] = new(typeof(DDPMSchedulerConfig), c => new DDPMScheduler((DDPMSchedulerConfig)c)),
        ["EulerAncestralDiscreteScheduler"] = new(typeof(EulerAncestralDiscreteSchedulerConfig), c => new EulerAncestralDiscreteScheduler((EulerAncestralDiscreteSchedulerConfig)c)),
        ["EulerDiscreteScheduler"] = new(typeof(EulerDiscreteSchedulerConfig), c => new EulerDiscreteScheduler((EulerDiscreteSchedulerConfig)c)),
        ["HeunDiscreteScheduler"] = new(typeof(HeunDiscreteSchedulerConfig), c => new HeunDiscreteScheduler((HeunDiscreteSchedulerConfig)c)),
        ["KDPM2AncestralDiscreteScheduler"] = new(typeof(KDPM2AncestralDiscreteSchedulerConfig), c => new KDPM2AncestralDiscreteScheduler((KDPM2AncestralDiscreteSchedulerConfig)c)),
        ["KDPM2DiscreteScheduler"] = new(typeof(KDPM2DiscreteSchedulerConfig), c => new KDPM2DiscreteScheduler((KDPM2DiscreteSchedulerConfig)c)),
        ["LMSDiscreteScheduler"] = new(typeof(LMSDiscreteSchedulerConfig), c => new LMSDiscreteScheduler((LMSDiscreteSchedulerConfig)c)),
        ["DPMSolverMultistepScheduler"] = new(typeof(DPMSolverMultistepSchedulerConfig), c => new DPMSolverMultistepScheduler((DPMSolverMultistepSchedulerConfig)c)),
        ["DPMSolverSinglestepScheduler"] = new(typeof(DPMSolverSinglestepSchedulerConfig), c => new DPMSolverSinglestepScheduler((DPMSolverSinglestepSchedulerConfig)c)),
        ["UniPCMultistepScheduler"] = new(typeof(UniPCMultistepSchedulerConfig), c => new UniPCMultistepScheduler((UniPCMultistepSchedulerConfig)c)),
        ["DEISMultistepScheduler"] = new(typeof(DEISMultistepSchedulerConfig), c => new DEISMultistepScheduler((DEISMultistepSchedulerConfig)c)),
    };

    /// <summary>The diffusers class names this factory builds, sorted.</summary>
    public static IReadOnlyList<string> ClassNames => Known.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The config record type of a scheduler class.</summary>
    /// <exception cref="ArgumentException">Unknown class name (the message lists the known ones).</exception>
    public static Type ConfigTypeOf(string className) => Lookup(className).ConfigType;

    /// <summary>Builds the scheduler a config record is for.</summary>
    /// <exception cref="ArgumentException">The config's class name is unknown.</exception>
    public static IDiffusionScheduler Create(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entry = Lookup(config.ClassName);
        if (!entry.ConfigType.IsInstanceOfType(config))
            throw new ArgumentException($"{config.ClassName} needs a {entry.ConfigType.Name}; got a {config.GetType().Name}", nameof(config));
        return entry.Create(config);
    }

    /// <summary>Reads a scheduler_config.json text; <paramref name="className"/> overrides its <c>_class_name</c>.</summary>
    /// <remarks>
    /// When the class changes, only the keys the new class knows are kept (its other fields take their defaults), as
    /// diffusers' <c>from_config</c> does: the beta schedule, training steps and prediction type carry over.
    /// </remarks>
    /// <exception cref="ArgumentException">Unknown class name, or an option value the class does not allow.</exception>
    /// <exception cref="InvalidDataException">Not a JSON object, or a field of the wrong type.</exception>
    /// <param name="overrides">Config keys set after the class switch (e.g. <c>use_karras_sigmas</c>: true), as a preset gives them.</param>
    public static SchedulerConfig ReadConfig(string json, string? className = null, string source = "scheduler config",
        IReadOnlyDictionary<string, JsonNode?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject node;
        try
        {
            node = SchedulerConfigJson.ParseNode(json, documentOptions: new() { AllowTrailingCommas = true, CommentHandling = System.Text.Json.JsonCommentHandling.Skip }) as JsonObject
                   ?? throw new InvalidDataException($"{source}: expected a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        try
        {
            string fileClass = node["_class_name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
            string target = className ?? fileClass;
            if (string.IsNullOrEmpty(target))
                throw new InvalidDataException($"{source}: no _class_name; name the scheduler class (one of: {string.Join(", ", ClassNames)})");
            var entry = Lookup(target);
            if (!string.Equals(target, fileClass, StringComparison.Ordinal))
            {
                var keys = ConfigKeys(entry.ConfigType);
                foreach (var key in node.Select(kv => kv.Key).ToList())
                    if (!keys.Contains(key)) node.Remove(key);
                node["_class_name"] = target;
                AdoptSiblingOptions(node, target);
            }
            foreach (var (key, value) in overrides ?? new Dictionary<string, JsonNode?>())
                node[key] = value?.DeepClone();
            return SchedulerConfigJson.FromJson(node.ToJsonString(), entry.ConfigType);
        }
        // Name the file in every message (the config layer below only knows the record type).
        catch (InvalidDataException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        catch (ArgumentException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            // Keep the option's key as ParamName; the message without the " (Parameter 'key')" that ArgumentException appends.
            var message = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new ArgumentException($"{source}: {message}", e.ParamName, e);
        }
    }

    // Option values of a sibling solver that the target class replaces by its own when switching, as the diffusers
    // constructors do with register_to_config (e.g. DPM-Solver's solver_type midpoint becomes UniPC's bh2).
    static readonly Dictionary<(string Class, string Key), (string[] From, string To)> SiblingOptions = new()
    {
        [("DPMSolverMultistepScheduler", "algorithm_type")] = (["deis"], "dpmsolver++"),
        [("DPMSolverMultistepScheduler", "solver_type")] = (["logrho", "bh1", "bh2"], "midpoint"),
        [("DPMSolverSinglestepScheduler", "algorithm_type")] = (["deis"], "dpmsolver++"),
        [("DPMSolverSinglestepScheduler", "solver_type")] = (["logrho", "bh1", "bh2"], "midpoint"),
        [("UniPCMultistepScheduler", "solver_type")] = (["midpoint", "heun", "logrho"], "bh2"),
        [("DEISMultistepScheduler", "algorithm_type")] = (["dpmsolver", "dpmsolver++"], "deis"),
        [("DEISMultistepScheduler", "solver_type")] = (["midpoint", "heun", "bh1", "bh2"], "logrho"),
    };

    static void AdoptSiblingOptions(JsonObject node, string className)
    {
        foreach (var ((cls, key), (from, to)) in SiblingOptions)
            if (cls == className && node[key] is JsonValue v && v.TryGetValue<string>(out var value) && from.Contains(value))
                node[key] = to;
    }

    /// <summary>Builds a scheduler from a scheduler_config.json file or a folder holding one; <paramref name="className"/> overrides the file's class.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static IDiffusionScheduler FromConfigFile(string path, string? className = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) path = Path.Combine(path, SchedulerConfigJson.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"scheduler config not found: {path}", path);
        return Create(ReadConfig(File.ReadAllText(path), className, path));
    }

    /// <summary>A scheduler of class <paramref name="className"/> on the noise schedule of <paramref name="other"/> (diffusers' <c>from_config</c>).</summary>
    public static IDiffusionScheduler Switch(SchedulerConfig other, string className)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Create(ReadConfig(other.ToJson(), className));
    }

    static Entry Lookup(string className) =>
        Known.TryGetValue(className, out var entry)
            ? entry
            : throw new ArgumentException($"unknown scheduler '{className}'; known: {string.Join(", ", ClassNames)}", nameof(className));

    /// <summary>The JSON keys a config record declares (its own and its base's).</summary>
    static HashSet<string> ConfigKeys(Type configType) =>
        configType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
}
