using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Models.Blocks;

/// <summary>Activation names of diffusers' <c>get_activation</c> (activations.py).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<ActivationFunction>))]
public enum ActivationFunction
{
    [JsonStringEnumMemberName("silu")] Silu,
    [JsonStringEnumMemberName("swish")] Swish,
    [JsonStringEnumMemberName("mish")] Mish,
    [JsonStringEnumMemberName("gelu")] Gelu,
    [JsonStringEnumMemberName("relu")] Relu,
}

/// <summary>How a resnet block injects the time embedding (diffusers' <c>time_embedding_norm</c> / <c>resnet_time_scale_shift</c>).</summary>
[JsonConverter(typeof(ExactNameEnumConverter<ResnetTimeScaleShift>))]
public enum ResnetTimeScaleShift
{
    /// <summary>Add the projected embedding before the second norm.</summary>
    [JsonStringEnumMemberName("default")] Default,
    /// <summary>Project to 2C, split into scale and shift, apply after the second norm: <c>h * (1 + scale) + shift</c>.</summary>
    [JsonStringEnumMemberName("scale_shift")] ScaleShift,
}

/// <summary>Downsampler of attention down blocks: strided convolution or a resnet block with <c>down=True</c>.</summary>
[JsonConverter(typeof(ExactNameEnumConverter<DownsampleType>))]
public enum DownsampleType
{
    [JsonStringEnumMemberName("conv")] Conv,
    [JsonStringEnumMemberName("resnet")] Resnet,
}

/// <summary>Upsampler of attention up blocks: nearest-neighbour + convolution, or a resnet block with <c>up=True</c>.</summary>
[JsonConverter(typeof(ExactNameEnumConverter<UpsampleType>))]
public enum UpsampleType
{
    [JsonStringEnumMemberName("conv")] Conv,
    [JsonStringEnumMemberName("resnet")] Resnet,
}

/// <summary>Applies an <see cref="ActivationFunction"/> (diffusers maps "swish" and "silu" to the same SiLU).</summary>
public static class Activations
{
    /// <param name="x">Any shape.</param>
    public static Tensor Apply(ActivationFunction fn, Tensor x) => fn switch
    {
        ActivationFunction.Silu or ActivationFunction.Swish => nn.functional.silu(x),
        ActivationFunction.Mish => nn.functional.mish(x),
        ActivationFunction.Gelu => nn.functional.gelu(x),
        ActivationFunction.Relu => nn.functional.relu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(fn), fn, "unknown activation"),
    };
}
