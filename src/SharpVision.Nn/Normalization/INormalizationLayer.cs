namespace SharpVision.Nn.Normalization;

/// <summary>
/// Marks a normalization module (its affine gain starts at ones and its shift at zeros). Initialisers use the type,
/// never the parameter's name, to leave these layers as built: see <see cref="Training.SeededInit"/>.
/// </summary>
public interface INormalizationLayer;
