using System.Text.Json;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Diffusion.Models;

/// <summary>
/// The one loader and writer of diffusers model folders (<c>from_pretrained</c> / <c>save_pretrained</c>: config.json and
/// diffusion_pytorch_model.safetensors) every model uses; <see cref="SharpVision.Diffusion.Pipelines.DiffusersPipelineFolder"/>
/// loads a pipeline's component folders through the models' <c>FromPretrained</c>, so through it.
/// </summary>
internal static class PretrainedFolder
{
    internal const string ConfigFileName = "config.json", WeightsFileName = "diffusion_pytorch_model.safetensors";

    /// <exception cref="ArgumentException">dtype is not Float32, Float64, BFloat16 or Float16.</exception>
    internal static void RequireFloatDtype(ScalarType dtype)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"dtype must be Float32, Float64, BFloat16 or Float16; got {dtype}", nameof(dtype));
    }

    /// <summary>
    /// Loads a model folder: reads config.json with <paramref name="readConfig"/>, rejects another <c>_class_name</c>,
    /// builds the model, converts it to <paramref name="dtype"/> and loads the weights strictly; eval mode.
    /// </summary>
    /// <exception cref="ArgumentException">An unsupported dtype.</exception>
    /// <exception cref="FileNotFoundException">config.json or the weights file is missing (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The config names another class or cannot be parsed.</exception>
    /// <exception cref="CheckpointMismatchException">Keys or shapes differ from the model's.</exception>
    internal static TModel Load<TConfig, TModel>(string directory, ScalarType dtype, string className, Func<string, TConfig> readConfig,
        Func<TConfig, IReadOnlyDictionary<string, JsonElement>?> extraOf, Func<TConfig, TModel> build) where TModel : nn.Module
    {
        RequireFloatDtype(dtype);
        var configPath = ConfigPath(directory, className);
        var config = readConfig(configPath);
        RequireClass(extraOf(config), className, configPath);
        var model = build(config);
        try
        {
            LoadWeights(model, directory, dtype, className);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>Path of config.json, checked to exist.</summary>
    /// <exception cref="FileNotFoundException">No config.json (the message names it).</exception>
    internal static string ConfigPath(string directory, string className)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{className} config not found: {path}", path);
        return path;
    }

    /// <summary>Rejects a config whose <c>_class_name</c> names another model.</summary>
    /// <exception cref="InvalidDataException">_class_name is present and differs.</exception>
    internal static void RequireClass(IReadOnlyDictionary<string, JsonElement>? extra, string className, string source)
    {
        if (extra is not null && extra.TryGetValue("_class_name", out var cls) &&
            cls.ValueKind == JsonValueKind.String && cls.GetString() != className)
            throw new InvalidDataException($"{source}: _class_name is '{cls.GetString()}', not {className}");
    }

    /// <summary>Converts <paramref name="model"/> to <paramref name="dtype"/>, loads the folder's weights strictly and sets eval mode.</summary>
    /// <exception cref="FileNotFoundException">The weights file is missing.</exception>
    /// <exception cref="CheckpointMismatchException">Keys or shapes differ from the model's.</exception>
    internal static void LoadWeights(nn.Module model, string directory, ScalarType dtype, string className)
    {
        var weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{className} weights not found: {weightsPath}", weightsPath);
        if (dtype != ScalarType.Float32) model.to(dtype);
        var weights = StateDict.LoadSafetensors(weightsPath);
        try
        {
            StateDict.LoadInto(model, weights, strict: true, source: weightsPath);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        model.eval();
    }

    /// <summary><paramref name="extra"/> with <c>_class_name</c> set.</summary>
    internal static Dictionary<string, JsonElement> WithClassName(IReadOnlyDictionary<string, JsonElement>? extra, string className) =>
        new(extra ?? new Dictionary<string, JsonElement>(), StringComparer.Ordinal)
        {
            ["_class_name"] = JsonSerializer.SerializeToElement(className),
        };

    /// <summary>Writes the weights (model dtype) and config.json, each atomically.</summary>
    internal static void Save(nn.Module model, string directory, string configJson)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        StateDict.SaveSafetensors(model.state_dict(), Path.Combine(directory, WeightsFileName));
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFileName), configJson);
    }
}
