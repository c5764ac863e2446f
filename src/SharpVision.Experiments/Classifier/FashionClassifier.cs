using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Experiments.Classifier;

/// <summary>
/// A small CNN for 28×28 greyscale images (Fashion-MNIST) with a pluggable normalization layer after
/// each convolution, so the same network can be trained with BN, GN, LN, IN or SN.
/// <code>
/// (N, 1, 28, 28) conv1 3×3 → norm1 → ReLU → max-pool 2   (N, w, 14, 14)
///                conv2 3×3 → norm2 → ReLU → max-pool 2   (N, 2w, 7, 7)
///                conv3 3×3 → norm3 → ReLU → mean over H, W (N, 4w)
///                fc1 → ReLU                                (N, 128)  ← <see cref="Features"/>
///                fc2                                       (N, 10)   logits
/// </code>
/// </summary>
public sealed class FashionClassifier : nn.Module<Tensor, Tensor>
{
    /// <summary>Width of the penultimate features returned by <see cref="Features"/>.</summary>
    public const int FeatureSize = 128;

    public readonly Conv2d conv1;
    public readonly nn.Module<Tensor, Tensor> norm1;
    public readonly Conv2d conv2;
    public readonly nn.Module<Tensor, Tensor> norm2;
    public readonly Conv2d conv3;
    public readonly nn.Module<Tensor, Tensor> norm3;
    public readonly Linear fc1;
    public readonly Linear fc2;

    /// <param name="norm">Creates the normalization layer for a given channel count.</param>
    /// <param name="classes">Number of output classes.</param>
    /// <param name="width">Channels of the first convolution (w above); the next two have 2w and 4w.</param>
    public FashionClassifier(Func<int, nn.Module<Tensor, Tensor>> norm, int classes = 10, int width = 16) : base(nameof(FashionClassifier))
    {
        ArgumentNullException.ThrowIfNull(norm);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        // Convolutions feeding a normalization layer need no bias: the layer's own shift replaces it.
        conv1 = nn.Conv2d(1, width, 3, padding: 1, bias: false);
        norm1 = norm(width);
        conv2 = nn.Conv2d(width, 2 * width, 3, padding: 1, bias: false);
        norm2 = norm(2 * width);
        conv3 = nn.Conv2d(2 * width, 4 * width, 3, padding: 1, bias: false);
        norm3 = norm(4 * width);
        fc1 = nn.Linear(4 * width, FeatureSize);
        fc2 = nn.Linear(FeatureSize, classes);
        RegisterComponents();
    }

    /// <summary>The network with <see cref="SharpVision.Nn.Normalization.BatchNorm2d"/> layers (the FD-FMNIST feature classifier's and
    /// <c>sharpvision classifier train</c>'s), initialised from libtorch's global generator.</summary>
    public static FashionClassifier WithBatchNorm() => new(c => new SharpVision.Nn.Normalization.BatchNorm2d(c));

    /// <summary>Penultimate features.</summary>
    /// <param name="images">(N, 1, 28, 28) images in [0, 1].</param>
    /// <returns>(N, 128).</returns>
    public Tensor Features(Tensor images)
    {
        Shapes.RequireRank(images, 4, "(N, 1, H, W)", nameof(images));
        Shapes.RequireDim(images, 1, 1, "(N, 1, H, W)", nameof(images));
        var x = nn.functional.max_pool2d(nn.functional.relu(norm1.call(conv1.call(images))), 2);  // (N, w, 14, 14)
        x = nn.functional.max_pool2d(nn.functional.relu(norm2.call(conv2.call(x))), 2);            // (N, 2w, 7, 7)
        x = nn.functional.relu(norm3.call(conv3.call(x))).mean([2, 3]);                             // (N, 4w)
        return nn.functional.relu(fc1.call(x));
    }

    /// <param name="images">(N, 1, 28, 28) images in [0, 1].</param>
    /// <returns>(N, classes) logits.</returns>
    public override Tensor forward(Tensor images) => fc2.call(Features(images));
}
