using SharpVision.Diffusion.Clip;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Clip;

public sealed class CLIPTextModelTests() : TempFolderTest("sv-cliptext-", create: true)
{
    static readonly string ModelFolder = FixtureRoot.Combine("clip", "clip_text_quick_gelu", "text_encoder");
    static readonly string WeightsPath = Path.Combine(ModelFolder, CLIPTextModel.SafetensorsFileName);

    static CLIPTextConfig FixtureConfig() => CLIPTextConfig.FromFile(Path.Combine(ModelFolder, CLIPTextModel.ConfigFileName));

    static Tensor Ids() => torch.tensor(new long[] { 860, 320, 835, 861, 861, 860, 555, 858, 733, 861 }, [2, 5]);

    [Fact]
    public void ConfigRoundTripsAndKeepsUnknownKeys()
    {
        var config = FixtureConfig();
        Assert.Equal((32, 128, 16, 3, 4, 77, CLIPHiddenAct.QuickGelu, 2), (config.HiddenSize, config.IntermediateSize,
            config.ProjectionDim, config.NumHiddenLayers, config.NumAttentionHeads, config.MaxPositionEmbeddings, config.HiddenAct, config.EosTokenId));
        Assert.Contains("architectures", config.Extra!.Keys);
        var again = CLIPTextConfig.FromJson(config.ToJson());
        Assert.Equal(config.ToJson(), again.ToJson());
        Assert.Equal(config with { Extra = null }, again with { Extra = null });
        Assert.Contains("\"hidden_act\": \"quick_gelu\"", config.ToJson());
    }

    [Fact]
    public void UnknownHiddenActListsTheAllowedValues()
    {
        var e = Assert.Throws<InvalidDataException>(() => CLIPTextConfig.FromJson("{\"hidden_act\": \"relu\"}"));
        Assert.Contains("quick_gelu, gelu", e.Message);
    }

    [Fact]
    public void StateDictKeysAndShapesEqualTheFixtureCheckpoints()
    {
        var checkpoint = StateDict.LoadSafetensors(WeightsPath);
        using var withProjection = new CLIPTextModelWithProjection(FixtureConfig());
        var keys = withProjection.state_dict();
        Assert.Equal(checkpoint.Keys.Order(StringComparer.Ordinal), keys.Keys.Order(StringComparer.Ordinal));
        Assert.All(keys, kv => Assert.Equal(checkpoint[kv.Key].shape, kv.Value.shape));

        using var plain = new CLIPTextModel(FixtureConfig());
        Assert.Equal(checkpoint.Keys.Where(k => k != "text_projection.weight").Order(StringComparer.Ordinal),
            plain.state_dict().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CLIPTextModelLoadsAProjectionCheckpointAndAgrees()
    {
        using var scope = torch.NewDisposeScope();
        using var plain = CLIPTextModel.FromPretrained(ModelFolder);
        using var projected = CLIPTextModelWithProjection.FromPretrained(ModelFolder);
        using var noGrad = torch.no_grad();
        var a = plain.call(Ids(), null);
        var b = projected.call(Ids(), null);
        Assert.Null(a.TextEmbeds);
        ParityCase.AssertClose("last_hidden_state", a.LastHiddenState, b.LastHiddenState, 0, 0);
        ParityCase.AssertClose("pooler_output", a.PoolerOutput, b.PoolerOutput, 0, 0);
    }

    [Fact]
    public void TorchSaveCheckpointWithPositionIdsLoads()
    {
        using var scope = torch.NewDisposeScope();
        File.Copy(Path.Combine(ModelFolder, CLIPTextModel.ConfigFileName), Path.Combine(Temp, CLIPTextModel.ConfigFileName));
        var weights = StateDict.LoadSafetensors(WeightsPath);
        weights["text_model.embeddings.position_ids"] = torch.arange(77L).unsqueeze(0);
        StateDict.SavePyTorch(weights, Path.Combine(Temp, CLIPTextModel.PyTorchFileName));

        using var fromBin = CLIPTextModelWithProjection.FromPretrained(Temp);
        using var fromSafetensors = CLIPTextModelWithProjection.FromPretrained(ModelFolder);
        using var noGrad = torch.no_grad();
        ParityCase.AssertClose("text_embeds", fromBin.call(Ids(), null).TextEmbeds!, fromSafetensors.call(Ids(), null).TextEmbeds!, 0, 0);
    }

    [Fact]
    public void UnexpectedKeyFailsStrictLoadingNamingIt()
    {
        File.Copy(Path.Combine(ModelFolder, CLIPTextModel.ConfigFileName), Path.Combine(Temp, CLIPTextModel.ConfigFileName));
        var weights = StateDict.LoadSafetensors(WeightsPath);
        weights["text_model.extra.weight"] = torch.zeros(3);
        StateDict.SaveSafetensors(weights, Path.Combine(Temp, CLIPTextModel.SafetensorsFileName));
        var e = Assert.Throws<CheckpointMismatchException>(() => CLIPTextModel.FromPretrained(Temp));
        Assert.Contains("text_model.extra.weight", e.Message);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var noConfig = Assert.Throws<FileNotFoundException>(() => CLIPTextModel.FromPretrained(Temp));
        Assert.Contains(CLIPTextModel.ConfigFileName, noConfig.Message);
        File.Copy(Path.Combine(ModelFolder, CLIPTextModel.ConfigFileName), Path.Combine(Temp, CLIPTextModel.ConfigFileName));
        var noWeights = Assert.Throws<FileNotFoundException>(() => CLIPTextModelWithProjection.FromPretrained(Temp));
        Assert.Contains(CLIPTextModel.SafetensorsFileName, noWeights.Message);
        Assert.Contains(CLIPTextModel.PyTorchFileName, noWeights.Message);
    }

    [Fact]
    public void WholeCLIPModelConfigIsRejected()
    {
        File.WriteAllText(Path.Combine(Temp, CLIPTextModel.ConfigFileName), "{\"model_type\": \"clip\", \"text_config\": {}}");
        var e = Assert.Throws<InvalidDataException>(() => CLIPTextModel.FromPretrained(Temp));
        Assert.Contains("text_config", e.Message);
    }

    [Fact]
    public void FullAttentionMaskEqualsNoMaskAndClipSkipZeroIsTheLastHiddenState()
    {
        using var scope = torch.NewDisposeScope();
        using var model = CLIPTextModel.FromPretrained(ModelFolder);
        using var noGrad = torch.no_grad();
        var ids = Ids();
        var causal = model.call(ids, null);
        var masked = model.call(ids, torch.ones_like(ids));
        ParityCase.AssertClose("all-ones mask", masked.LastHiddenState, causal.LastHiddenState, 1e-6, 1e-6);
        ParityCase.AssertClose("clip_skip 0", model.EncodePrompt(ids, clipSkip: 0), causal.LastHiddenState, 0, 0);
        // Padding keys are masked, so the tokens before them do not change; positions after the pad do.
        var padded = model.call(ids, torch.tensor(new long[] { 1, 1, 1, 1, 0, 1, 1, 1, 1, 1 }, [2, 5]));
        ParityCase.AssertClose("before padding", padded.LastHiddenState[.., ..4], causal.LastHiddenState[.., ..4], 1e-6, 1e-6);
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingThem()
    {
        using var model = new CLIPTextModel(FixtureConfig());
        Assert.Throws<ArgumentOutOfRangeException>(() => model.EncodePrompt(Ids(), clipSkip: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.EncodePrompt(Ids(), clipSkip: -1));
        var longIds = Assert.Throws<ArgumentException>(() => model.call(torch.zeros(1, 78, ScalarType.Int64), null));
        Assert.Contains("L <= 77", longIds.Message);
        var mask = Assert.Throws<ArgumentException>(() => model.call(Ids(), torch.ones(2, 4, ScalarType.Int64)));
        Assert.Equal("attentionMask", mask.ParamName);
        var heads = Assert.Throws<ArgumentException>(() => new CLIPTextModel(FixtureConfig() with { NumAttentionHeads = 5 }));
        Assert.Contains("divisible", heads.Message);
    }
}
