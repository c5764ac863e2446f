using CsCheck;
using SharpVision.Diffusion.Clip;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Tests.Clip;

public sealed class CLIPTokenizerTests() : TempFolderTest("sv-cliptok-", create: true)
{
    static readonly string FixtureFolder = FixtureRoot.Combine("clip", "clip_tokenizer_pad_eos");
    static readonly string TokenizerFolder = Path.Combine(FixtureFolder, "tokenizer");
    static readonly CLIPTokenizer Tokenizer = CLIPTokenizer.FromPretrained(TokenizerFolder);

    [SkippableFact]
    public void RealVocabularyReproducesEveryReferencePrompt()
    {
        var folder = ReferenceData.Find("clip-vit-large-patch14-tokenizer");
        Skip.If(folder is null, "shared/reference-data/clip-vit-large-patch14-tokenizer is not beside the repository");
        var tokenizer = CLIPTokenizer.FromPretrained(Path.Combine(folder!, "tokenizer"));
        Assert.Equal(49408, tokenizer.VocabSize);
        var prompts = CLIPPrompt.Read(Path.Combine(folder!, "prompts.json"));
        CLIPPrompt.AssertAll(tokenizer, prompts, "clip-vit-large-patch14");
        var expected = StateDict.LoadSafetensors(Path.Combine(folder!, "tensors.safetensors"));
        using var batch = tokenizer.TokenizeBatch(prompts.Select(p => p.Text).ToList());
        ParityCase.AssertClose("clip-vit-large-patch14 input_ids", batch.InputIds, expected["input_ids"], 0, 0);
    }

    [Fact]
    public void DecodeOfEncodeReEncodesToTheSameIds()
    {
        var chars = Gen.Char["abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,!?'-/&()éèüßñ日本★\t\n"];
        SeededSample.Run(Gen.String[chars, 0, 40], text =>
        {
            var ids = Tokenizer.Encode(text);
            var decoded = Tokenizer.Decode(ids);
            Assert.Equal(ids, Tokenizer.Encode(decoded));
            Assert.Equal(CLIPTextCleaner.Clean(text).Replace(" ", ""), decoded.Replace(" ", ""));
        }, seed: 7);
    }

    [Fact]
    public void LongPromptReportsTheTruncatedPart()
    {
        var prompt = CLIPPrompt.Read(Path.Combine(FixtureFolder, "prompts.json")).Single(p => p.BpeIds.Length > 75);
        var encoding = Tokenizer.Tokenize(prompt.Text);

        Assert.True(encoding.WasTruncated);
        Assert.Equal(77, encoding.InputIds.Count);
        Assert.Equal(Tokenizer.BosTokenId, encoding.InputIds[0]);
        Assert.Equal(Tokenizer.EosTokenId, encoding.InputIds[76]);
        Assert.Equal(prompt.BpeIds[75..], encoding.TruncatedIds);
        Assert.Equal(Tokenizer.Decode(prompt.BpeIds[75..]), encoding.TruncatedText);
        Assert.EndsWith("keeps going ", encoding.TruncatedText);
    }

    [Fact]
    public void ShortPromptIsPaddedAndReportsNothing()
    {
        var encoding = Tokenizer.Tokenize("a photo of a cat");
        Assert.False(encoding.WasTruncated);
        Assert.Equal("", encoding.TruncatedText);
        Assert.Equal(77, encoding.InputIds.Count);
        Assert.Equal(7, encoding.AttentionMask.Sum());
        Assert.All(encoding.InputIds.Skip(7), id => Assert.Equal(Tokenizer.PadTokenId, id));

        var unpadded = Tokenizer.Tokenize("a photo of a cat", padToMaxLength: false);
        Assert.Equal(encoding.InputIds.Take(7), unpadded.InputIds);
    }

    [Fact]
    public void SpecialTokensInTheTextMapToTheirIds()
    {
        var ids = Tokenizer.Encode("<|startoftext|>a cat<|endoftext|>");
        Assert.Equal([Tokenizer.BosTokenId, .. Tokenizer.Encode("a cat"), Tokenizer.EosTokenId], ids);
        Assert.Equal("a cat ", Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void DecodeRejectsAnIdOutsideTheVocabulary()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([Tokenizer.VocabSize]));
        Assert.Contains($"id {Tokenizer.VocabSize}", e.Message);
    }

    [Fact]
    public void MaxLengthBelowTwoIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Tokenize("a cat", maxLength: 1));

    [Theory]
    [InlineData("ﬁne ﬂower", "fine flower")]
    [InlineData("ＦＵＬＬ　ｗｉｄｔｈ！１", "full width!1")]
    [InlineData("ｶﾞｷﾞ", "ガギ")]
    [InlineData("fish &amp; chips &lt;3", "fish & chips <3")]
    [InlineData("<b>fish &amp; chips</b>", "<b>fish &amp; chips</b>")]
    [InlineData("it’s “quoted”", "it's \"quoted\"")]
    [InlineData("\u0093c1 quotes\u0094", "\"c1 quotes\"")]
    [InlineData("cafe\u0301 \u200bzero\u0000", "café \u200bzero")]
    [InlineData("  Upper\tCASE\n ", "upper case")]
    public void CleaningFollowsFtfy(string text, string expected) => Assert.Equal(expected, CLIPTextCleaner.Clean(text));

    // Expected values are Python's unicodedata.normalize("NFC", text).
    [Theory]
    [InlineData("cafe\u0301", "caf\u00E9")]
    [InlineData("\u1100\u1161\u11A8", "\uAC01")]
    [InlineData("\uAC00\u11A8", "\uAC01")]
    [InlineData("\u212B", "\u00C5")]
    [InlineData("\u0915\u093C", "\u0915\u093C")]
    [InlineData("q\u0307\u0323", "q\u0323\u0307")]
    [InlineData("\u1E0B\u0323", "\u1E0D\u0307")]
    [InlineData("A\u030A\u0301", "\u01FA")]
    [InlineData("A\u0308\u0304", "\u01DE")]
    public void TextIsNfcNormalised(string text, string expected) => Assert.Equal(expected, CLIPTextCleaner.FixText(text));

    [Fact]
    public void MissingVocabularyNamesTheFile()
    {
        CopyTokenizer(except: CLIPTokenizer.VocabFileName);
        var e = Assert.Throws<FileNotFoundException>(() => CLIPTokenizer.FromPretrained(Temp));
        Assert.Contains(CLIPTokenizer.VocabFileName, e.Message);
    }

    [Fact]
    public void MissingMergesNamesTheFile()
    {
        CopyTokenizer(except: CLIPTokenizer.MergesFileName);
        var e = Assert.Throws<FileNotFoundException>(() => CLIPTokenizer.FromPretrained(Temp));
        Assert.Contains(CLIPTokenizer.MergesFileName, e.Message);
    }

    [Theory]
    [InlineData(CLIPTokenizer.VocabFileName, "{\"a\": \"not an id\"}", "vocab.json")]
    [InlineData(CLIPTokenizer.VocabFileName, "{\"a\": 0, \"b</w>\": 1}", "bos_token '<|startoftext|>' is not in")]
    [InlineData(CLIPTokenizer.ConfigFileName, "{\"pad_token\": \"NaN\"}", "tokenizer_config.json: pad_token 'NaN' is not in")]
    [InlineData(CLIPTokenizer.MergesFileName, "#version: 0.2\ni n g\n", "merges.txt:2")]
    [InlineData(CLIPTokenizer.ConfigFileName, "{\"model_max_length\": \"long\"}", "model_max_length")]
    [InlineData(CLIPTokenizer.SpecialTokensFileName, "[1, 2]", "special_tokens_map.json")]
    public void BadFileIsInvalidDataNamingTheProblem(string file, string content, string named)
    {
        CopyTokenizer(except: file);
        File.WriteAllText(Path.Combine(Temp, file), content);
        var e = Assert.Throws<InvalidDataException>(() => CLIPTokenizer.FromPretrained(Temp));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void ConfigsAreOptionalAndAddedTokenObjectsAreRead()
    {
        CopyTokenizer(except: CLIPTokenizer.ConfigFileName);
        File.Delete(Path.Combine(Temp, CLIPTokenizer.SpecialTokensFileName));
        var defaults = CLIPTokenizer.FromPretrained(Temp);
        Assert.Equal((77, "<|endoftext|>"), (defaults.ModelMaxLength, defaults.PadToken));

        File.WriteAllText(Path.Combine(Temp, CLIPTokenizer.ConfigFileName),
            "{\"pad_token\": {\"__type\": \"AddedToken\", \"content\": \"!\"}, \"model_max_length\": 1e30}");
        var sd2 = CLIPTokenizer.FromPretrained(Temp);
        Assert.Equal(("!", 0, 77), (sd2.PadToken, sd2.PadTokenId, sd2.ModelMaxLength));

        File.WriteAllText(Path.Combine(Temp, CLIPTokenizer.ConfigFileName), "{\"model_max_length\": 2147483647}");
        Assert.Equal(77, CLIPTokenizer.FromPretrained(Temp).ModelMaxLength); // not 2^31 - 1 ids of padding per prompt
    }

    [Fact]
    public void AnIdOfIntMaxReadsAndDecodesWithoutATableOfThatSize()
    {
        CopyTokenizer(except: CLIPTokenizer.VocabFileName);
        var vocab = File.ReadAllText(Path.Combine(TokenizerFolder, CLIPTokenizer.VocabFileName)).Replace("\"a</w>\": ", "\"a</w>\": 2147483647, \"was-a</w>\": ");
        File.WriteAllText(Path.Combine(Temp, CLIPTokenizer.VocabFileName), vocab);
        var tokenizer = CLIPTokenizer.FromPretrained(Temp);
        Assert.Equal(int.MaxValue, tokenizer.TokenToId("a</w>"));
        Assert.Equal("a photo ", tokenizer.Decode(tokenizer.Encode("a photo")));
    }

    void CopyTokenizer(string except)
    {
        foreach (var file in Directory.GetFiles(TokenizerFolder))
        {
            if (Path.GetFileName(file) != except) File.Copy(file, Path.Combine(Temp, Path.GetFileName(file)));
        }
    }
}
