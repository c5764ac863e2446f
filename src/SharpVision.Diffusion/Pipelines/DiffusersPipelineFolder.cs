using System.Text.Json;
using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Diffusion.Pipelines;

/// <summary>One component entry of model_index.json: <c>"unet": ["diffusers", "UNet2DConditionModel"]</c>.</summary>
/// <param name="Library">The library that defines the class (<c>diffusers</c>, <c>transformers</c>); null for an absent component.</param>
/// <param name="ClassName">The component's class; null for an absent component (<c>[null, null]</c>).</param>
public sealed record PipelineComponent(string? Library, string? ClassName)
{
    /// <summary>Whether the pipeline has this component (diffusers writes <c>[null, null]</c> for one it was saved without).</summary>
    public bool IsPresent => ClassName is not null;
}

/// <summary>
/// A diffusers pipeline folder (<c>save_pretrained</c> of a pipeline): <c>model_index.json</c> maps each component name
/// to its [library, class], and each component has its own subfolder (<c>unet/</c>, <c>vae/</c>, <c>scheduler/</c>,
/// <c>controlnet/</c>). Loads the components as diffusers' <c>DiffusionPipeline.from_pretrained</c> does, each model
/// through its <c>FromPretrained</c> (one model-folder loader, <see cref="PretrainedFolder"/>), the scheduler through
/// <see cref="SchedulerFactory"/> from its <c>_class_name</c> unless another class is asked for.
/// </summary>
/// <remarks>
/// A component folder need not be listed in model_index.json (a ControlNet kept beside the pipeline's own components,
/// as the ControlNet pipelines load it); when it is listed, its class must be the one asked for.
/// </remarks>
public sealed class DiffusersPipelineFolder
{
    /// <summary>The pipeline's index file.</summary>
    public const string ModelIndexFileName = "model_index.json";

    /// <summary>The pipeline folder.</summary>
    public string Directory { get; }

    /// <summary><c>_class_name</c> of model_index.json (e.g. <c>StableDiffusionPipeline</c>), or null.</summary>
    public string? ClassName { get; }

    /// <summary><c>_diffusers_version</c> of the writer, or null.</summary>
    public string? DiffusersVersion { get; }

    /// <summary>The component entries of model_index.json by name, absent ones included.</summary>
    public IReadOnlyDictionary<string, PipelineComponent> Components { get; }

    DiffusersPipelineFolder(string directory, string? className, string? version, IReadOnlyDictionary<string, PipelineComponent> components)
    {
        Directory = directory;
        ClassName = className;
        DiffusersVersion = version;
        Components = components;
    }

    /// <summary>Reads the folder's model_index.json.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">No model_index.json (the message names its path).</exception>
    /// <exception cref="InvalidDataException">model_index.json is not an object of [library, class] entries.</exception>
    public static DiffusersPipelineFolder Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"pipeline folder not found: {directory}");
        var indexPath = Path.Combine(directory, ModelIndexFileName);
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"{ModelIndexFileName} not found in the pipeline folder: {indexPath}", indexPath);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath), new JsonDocumentOptions { AllowTrailingCommas = true });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{indexPath}: expected a JSON object");
            string? className = null, version = null;
            var components = new Dictionary<string, PipelineComponent>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "_class_name") className = p.Value.GetString();
                else if (p.Name == "_diffusers_version") version = p.Value.GetString();
                else if (p.Name.StartsWith('_')) continue;
                else if (p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() == 2)
                    components[p.Name] = new PipelineComponent(StringOrNull(p.Value[0]), StringOrNull(p.Value[1]));
                // other keys are pipeline options (e.g. requires_safety_checker), not components
            }
            return new DiffusersPipelineFolder(Path.GetFullPath(directory), className, version, components);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{indexPath}: {e.Message}", e);
        }
    }

    static string? StringOrNull(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    /// <summary>Whether model_index.json lists <paramref name="component"/> as present.</summary>
    public bool Has(string component) => Components.TryGetValue(component, out var c) && c.IsPresent;

    /// <summary>Whether the pipeline has <paramref name="component"/>: listed as present, or not listed and its folder exists.</summary>
    public bool Provides(string component) =>
        Components.TryGetValue(component, out var c) ? c.IsPresent : System.IO.Directory.Exists(Path.Combine(Directory, component));

    /// <summary>The folder of <paramref name="component"/>, checked to exist and, where model_index.json lists it, to hold <paramref name="className"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The component folder is missing (the message names the component and the path).</exception>
    /// <exception cref="InvalidDataException">model_index.json lists the component as absent or as another class.</exception>
    public string ComponentPath(string component, string? className = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        var listed = Components.TryGetValue(component, out var entry) ? entry : null;
        if (listed is { IsPresent: false })
            throw new InvalidDataException($"{Path.Combine(Directory, ModelIndexFileName)}: component '{component}' is absent ([null, null])");
        if (className is not null && listed is { ClassName: { } cls } && cls != className)
            throw new InvalidDataException($"{Path.Combine(Directory, ModelIndexFileName)}: component '{component}' is a {cls}, not a {className}");
        var path = Path.Combine(Directory, component);
        if (!System.IO.Directory.Exists(path))
            throw new DirectoryNotFoundException($"pipeline component '{component}' ({listed?.ClassName ?? className ?? "?"}) not found: {path}");
        return path;
    }

    /// <summary>The denoising UNet (<c>unet/</c>).</summary>
    /// <param name="dtype">Float32 (default), BFloat16, Float16 or Float64; weights are converted.</param>
    /// <exception cref="DirectoryNotFoundException">No such component folder.</exception>
    /// <exception cref="FileNotFoundException">The folder lacks config.json or the weights.</exception>
    public UNet2DConditionModel LoadUNet(ScalarType dtype = ScalarType.Float32, string component = "unet") =>
        UNet2DConditionModel.FromPretrained(ComponentPath(component, nameof(UNet2DConditionModel)), dtype);

    /// <summary>The latent autoencoder (<c>vae/</c>).</summary>
    /// <inheritdoc cref="LoadUNet" path="/exception"/>
    public AutoencoderKL LoadVae(ScalarType dtype = ScalarType.Float32, string component = "vae") =>
        AutoencoderKL.FromPretrained(ComponentPath(component, nameof(AutoencoderKL)), dtype);

    /// <summary>The prompt tokenizer (<c>tokenizer/</c>: vocab.json, merges.txt, tokenizer_config.json).</summary>
    /// <exception cref="DirectoryNotFoundException">No such component folder.</exception>
    /// <exception cref="FileNotFoundException">The folder lacks vocab.json or merges.txt.</exception>
    public CLIPTokenizer LoadTokenizer(string component = "tokenizer") =>
        CLIPTokenizer.FromPretrained(ComponentPath(component)); // CLIPTokenizer or CLIPTokenizerFast: the same files

    /// <summary>The text encoder (<c>text_encoder/</c>, transformers' <c>CLIPTextModel</c>).</summary>
    /// <inheritdoc cref="LoadUNet" path="/exception"/>
    public CLIPTextModel LoadTextEncoder(ScalarType dtype = ScalarType.Float32, string component = "text_encoder") =>
        CLIPTextModel.FromPretrained(ComponentPath(component, nameof(CLIPTextModel)), dtype);

    /// <summary>One ControlNet (<c>controlnet/</c>, or a named folder such as <c>controlnet_1/</c>).</summary>
    /// <inheritdoc cref="LoadUNet" path="/exception"/>
    public ControlNetModel LoadControlNet(string component = "controlnet", ScalarType dtype = ScalarType.Float32) =>
        ControlNetModel.FromPretrained(ComponentPath(component, nameof(ControlNetModel)), dtype);

    /// <summary>The scheduler (<c>scheduler/scheduler_config.json</c>), of its own <c>_class_name</c> or of <paramref name="className"/>
    /// on the same noise schedule (diffusers' <c>OtherScheduler.from_config(pipe.scheduler.config)</c>).</summary>
    /// <exception cref="DirectoryNotFoundException">No scheduler folder.</exception>
    /// <exception cref="FileNotFoundException">No scheduler_config.json.</exception>
    /// <exception cref="ArgumentException">A scheduler class <see cref="SchedulerFactory"/> does not know (the message lists the known ones).</exception>
    public IDiffusionScheduler LoadScheduler(string? className = null, string component = "scheduler") =>
        SchedulerFactory.FromConfigFile(ComponentPath(component), className);

    /// <summary>
    /// The scheduler class of the pipeline: model_index.json's entry for <paramref name="component"/>, else the
    /// <c>_class_name</c> of its scheduler_config.json (to check the class is known before loading it).
    /// </summary>
    /// <exception cref="FileNotFoundException">Not in model_index.json and no scheduler_config.json.</exception>
    /// <exception cref="InvalidDataException">Neither names a class.</exception>
    public string SchedulerClassName(string component = "scheduler")
    {
        if (Components.TryGetValue(component, out var entry) && entry.ClassName is { } listed) return listed;
        var path = Path.Combine(ComponentPath(component), SchedulerConfigJson.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"scheduler config not found: {path}", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("_class_name", out var c) && c.ValueKind == JsonValueKind.String)
                return c.GetString()!;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        throw new InvalidDataException($"{path}: no _class_name");
    }
}
