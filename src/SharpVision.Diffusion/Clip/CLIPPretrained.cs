using SharpVision.Diffusion.Models;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Diffusion.Clip;

/// <summary>transformers' <c>from_pretrained</c> for the CLIP text models: config.json plus model.safetensors or pytorch_model.bin.</summary>
internal static class CLIPPretrained
{
    internal const string SafetensorsFileName = "model.safetensors", PyTorchFileName = "pytorch_model.bin";

    /// <summary>The buffer older transformers versions saved (SD 1.5's text encoder carries it); positions are computed instead.</summary>
    internal const string PositionIdsKey = "text_model.embeddings.position_ids";

    /// <summary>Builds the model from the folder's config, loads its weights strictly (less <paramref name="ignoredKeys"/>), eval mode.</summary>
    /// <exception cref="FileNotFoundException">config.json, or both weight files, missing.</exception>
    /// <exception cref="InvalidDataException">The config is not a CLIP text config.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not match the config.</exception>
    internal static T Load<T>(string directory, ScalarType dtype, string className, Func<CLIPTextConfig, T> build, params string[] ignoredKeys)
        where T : nn.Module
    {
        PretrainedFolder.RequireFloatDtype(dtype);
        var configPath = PretrainedFolder.ConfigPath(directory, className);
        var config = CLIPTextConfig.FromFile(configPath);
        if (config.Extra is { } extra && extra.ContainsKey("text_config"))
            throw new InvalidDataException($"{configPath} is a whole CLIPModel config (it nests text_config); {className} reads a text encoder folder");
        var weightsPath = WeightsPath(directory, className);
        var model = build(config);
        try
        {
            if (dtype != ScalarType.Float32) model.to(dtype);
            var weights = StateDict.Load(weightsPath);
            try
            {
                foreach (var key in ignoredKeys.Append(PositionIdsKey))
                {
                    if (weights.Remove(key, out var dropped)) dropped.Dispose();
                }
                StateDict.LoadInto(model, weights, strict: true, source: weightsPath);
            }
            finally
            {
                foreach (var t in weights.Values) t.Dispose();
            }
            model.eval();
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    static string WeightsPath(string directory, string className)
    {
        var safetensors = Path.Combine(directory, SafetensorsFileName);
        if (File.Exists(safetensors)) return safetensors;
        var pytorch = Path.Combine(directory, PyTorchFileName);
        if (File.Exists(pytorch)) return pytorch;
        throw new FileNotFoundException($"{className} weights not found: neither {safetensors} nor {pytorch}", safetensors);
    }
}
