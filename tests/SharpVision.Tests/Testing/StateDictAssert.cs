using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Testing;

/// <summary>The check every model's test makes against the reference checkpoint in the fixtures.</summary>
public static class StateDictAssert
{
    /// <summary>
    /// Asserts that <paramref name="model"/>'s state_dict has exactly the keys of the safetensors file at
    /// <paramref name="referencePath"/>, each with the reference's shape.
    /// </summary>
    public static void KeysAndShapesEqual(string referencePath, nn.Module model)
    {
        var reference = StateDict.LoadSafetensors(referencePath);
        var ours = model.state_dict();
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, t) in reference)
            Assert.True(t.shape.SequenceEqual(ours[key].shape), $"{key}: reference {string.Join(",", t.shape)} vs ours {string.Join(",", ours[key].shape)}");
    }
}
