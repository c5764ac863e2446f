using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// CLIP's byte-level BPE tokenizer (transformers models/clip/tokenization_clip.py <c>CLIPTokenizer</c>, after openai/CLIP
/// simple_tokenizer.py) read from a transformers tokenizer folder: <see cref="CLIPTextCleaner"/> (ftfy, whitespace,
/// lower case), CLIP's pre-tokenizer regex, BPE with <c>&lt;/w&gt;</c> end-of-word markers, bos/eos, truncation to
/// <see cref="ModelMaxLength"/> and padding with the folder's pad token (SD 1.x: <c>&lt;|endoftext|&gt;</c>, SD 2.x: <c>!</c>).
/// The BPE itself is Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> (byte level, end-of-word suffix, its merge
/// cache), because it reproduces every fixture's ids and those of the real 49,408-token vocabulary; decoding is done
/// here, since its Decode drops the spaces the end-of-word markers stand for.
/// </summary>
public sealed partial class CLIPTokenizer
{
    /// <summary>File names of a transformers tokenizer folder.</summary>
    public const string VocabFileName = "vocab.json", MergesFileName = "merges.txt",
        ConfigFileName = "tokenizer_config.json", SpecialTokensFileName = "special_tokens_map.json";

    /// <summary>The length CLIP's text encoder takes (its position embeddings); used when the config gives none.</summary>
    public const int DefaultModelMaxLength = 77;

    const string EndOfWord = "</w>";

    readonly BpeTokenizer bpe;
    readonly Dictionary<string, int> vocab;
    readonly Dictionary<int, string> tokensById; // not an array: ids need not be dense, and one id of 2^31 - 1 must not allocate 2^31 slots

    /// <summary>Prompts are cut and padded to this many tokens (tokenizer_config.json <c>model_max_length</c>).</summary>
    public int ModelMaxLength { get; }
    public string BosToken { get; }
    public string EosToken { get; }
    public string PadToken { get; }
    public string UnkToken { get; }
    public int BosTokenId { get; }
    public int EosTokenId { get; }
    public int PadTokenId { get; }
    /// <summary>Number of entries in vocab.json.</summary>
    public int VocabSize => vocab.Count;

    CLIPTokenizer(Dictionary<string, int> vocab, IReadOnlyList<string> merges, SpecialTokens special, int modelMaxLength, string mergesSource)
    {
        this.vocab = vocab;
        ModelMaxLength = modelMaxLength;
        (BosToken, EosToken, PadToken, UnkToken) = (special.Bos, special.Eos, special.Pad, special.Unk);
        BosTokenId = vocab[BosToken];
        EosTokenId = vocab[EosToken];
        PadTokenId = vocab[PadToken];
        tokensById = vocab.ToDictionary(kv => kv.Value, kv => kv.Key);

        var specialIds = new Dictionary<string, int>(StringComparer.Ordinal) { [BosToken] = BosTokenId, [EosToken] = EosTokenId };
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocab)
            {
                Merges = merges,
                ByteLevel = true,
                EndOfWordSuffix = EndOfWord,
                UnknownToken = UnkToken,
                SpecialTokens = specialIds,
                PreTokenizer = new RegexPreTokenizer(PreTokenizerRegex(), specialIds),
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"{mergesSource}: the merges do not fit vocab.json: {e.Message}", e);
        }
    }

    /// <summary>Reads a transformers tokenizer folder (vocab.json and merges.txt required; the two JSON configs optional).</summary>
    /// <exception cref="FileNotFoundException">vocab.json or merges.txt is missing (the message names the file).</exception>
    /// <exception cref="InvalidDataException">A file cannot be parsed, or a special token is not in the vocabulary (the message names the file).</exception>
    public static CLIPTokenizer FromPretrained(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var vocabPath = Path.Combine(directory, VocabFileName);
        var mergesPath = Path.Combine(directory, MergesFileName);
        var vocab = ReadVocab(vocabPath);
        var merges = ReadMerges(mergesPath);
        var configPath = Path.Combine(directory, ConfigFileName);
        var config = ReadOptionalJson(configPath);
        var mapPath = Path.Combine(directory, SpecialTokensFileName);
        var map = ReadOptionalJson(mapPath);
        // tokenizer_config.json wins over special_tokens_map.json, as in transformers' from_pretrained. The check names
        // the file the token came from, since that file (not vocab.json) may be the one that is wrong.
        string Token(string key, string fallback)
        {
            var (token, source) = TokenContent(config, key) is { } c ? (c, configPath)
                : TokenContent(map, key) is { } m ? (m, mapPath)
                : (fallback, $"{vocabPath} (the default {key})");
            return vocab.ContainsKey(token) ? token : throw new InvalidDataException($"{source}: {key} '{token}' is not in {vocabPath}");
        }
        var special = new SpecialTokens(Token("bos_token", "<|startoftext|>"), Token("eos_token", "<|endoftext|>"),
            Token("pad_token", "<|endoftext|>"), Token("unk_token", "<|endoftext|>"));
        return new CLIPTokenizer(vocab, merges, special, ModelMaxLengthOf(config, configPath), mergesPath);
    }

    /// <summary>The BPE ids of a text, without bos/eos (openai's <c>SimpleTokenizer.encode</c>).</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = CLIPTextCleaner.Clean(text);
        return clean.Length == 0 ? [] : bpe.EncodeToIds(clean);
    }

    /// <summary>
    /// One prompt as a Stable Diffusion pipeline tokenizes it: bos, the BPE ids cut to <paramref name="maxLength"/> − 2,
    /// eos, then (when <paramref name="padToMaxLength"/>) pad ids; the ids cut off are reported.
    /// </summary>
    /// <param name="maxLength">Total length including bos and eos; default <see cref="ModelMaxLength"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2.</exception>
    public CLIPEncoding Tokenize(string prompt, int? maxLength = null, bool padToMaxLength = true)
    {
        int length = maxLength ?? ModelMaxLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 2, nameof(maxLength));
        var ids = Encode(prompt);
        int kept = Math.Min(ids.Count, length - 2);
        var inputIds = new List<int>(length) { BosTokenId };
        for (int i = 0; i < kept; i++) inputIds.Add(ids[i]);
        inputIds.Add(EosTokenId);
        var mask = Enumerable.Repeat(1, inputIds.Count).ToList();
        while (padToMaxLength && inputIds.Count < length)
        {
            inputIds.Add(PadTokenId);
            mask.Add(0);
        }
        var truncated = ids.Skip(kept).ToArray();
        return new CLIPEncoding(inputIds, mask, truncated, truncated.Length == 0 ? "" : Decode(truncated));
    }

    /// <summary>Tokenizes a batch to <paramref name="maxLength"/> tokens each (padded), as int64 tensors.</summary>
    /// <returns>InputIds and AttentionMask (B, maxLength), and each prompt's <see cref="CLIPEncoding"/>.</returns>
    /// <exception cref="ArgumentException">The batch is empty.</exception>
    public CLIPTokenizerOutput TokenizeBatch(IReadOnlyList<string> prompts, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("prompts must not be empty", nameof(prompts));
        var encodings = prompts.Select(p => Tokenize(p, maxLength)).ToList();
        long b = encodings.Count, l = encodings[0].InputIds.Count;
        var ids = encodings.SelectMany(e => e.InputIds).Select(i => (long)i).ToArray();
        var mask = encodings.SelectMany(e => e.AttentionMask).Select(i => (long)i).ToArray();
        return new CLIPTokenizerOutput(torch.tensor(ids, [b, l], ScalarType.Int64), torch.tensor(mask, [b, l], ScalarType.Int64), encodings);
    }

    /// <summary>
    /// Ids back to text as openai's <c>SimpleTokenizer.decode</c>: tokens joined, byte-level characters turned back
    /// into UTF-8 bytes (invalid sequences become U+FFFD), each <c>&lt;/w&gt;</c> a space.
    /// </summary>
    /// <param name="skipSpecialTokens">Leave out bos, eos and pad ids (transformers' skip_special_tokens).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (skipSpecialTokens && (id == BosTokenId || id == EosTokenId || id == PadTokenId)) continue;
            var token = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"id {id} is not in the vocabulary (size {VocabSize})");
            foreach (char c in token) bytes.AddRange(ByteLevel.Decode(c));
        }
        return Encoding.UTF8.GetString(bytes.ToArray()).Replace(EndOfWord, " ", StringComparison.Ordinal);
    }

    /// <summary>The id of a vocabulary entry (byte-level form, e.g. <c>cat&lt;/w&gt;</c>), or null.</summary>
    public int? TokenToId(string token) => vocab.TryGetValue(token, out var id) ? id : null;

    /// <summary>The vocabulary entry of an id, or null.</summary>
    public string? IdToToken(int id) => tokensById.GetValueOrDefault(id);

    // openai/CLIP simple_tokenizer.py's pattern (matched on lower-cased text, so IGNORECASE changes nothing).
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex PreTokenizerRegex();

    sealed record SpecialTokens(string Bos, string Eos, string Pad, string Unk);

    static Dictionary<string, int> ReadVocab(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP tokenizer vocabulary not found: {path}", path);
        Dictionary<string, int>? vocab;
        try { vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a JSON object of token → id: {e.Message}", e); }
        if (vocab is null || vocab.Count == 0) throw new InvalidDataException($"{path} holds no tokens");
        if (vocab.Values.Any(id => id < 0)) throw new InvalidDataException($"{path}: ids must be >= 0");
        if (vocab.Values.Distinct().Count() != vocab.Count) throw new InvalidDataException($"{path}: two tokens share an id");
        return new Dictionary<string, int>(vocab, StringComparer.Ordinal);
    }

    // merges.txt: an optional "#version" line, then one "left right" pair per line, highest priority first.
    static List<string> ReadMerges(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP tokenizer merges not found: {path}", path);
        var merges = new List<string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            if (line.Split(' ').Length != 2)
                throw new InvalidDataException($"{path}:{lineNumber}: expected two space-separated tokens, got '{line}'");
            merges.Add(line);
        }
        return merges;
    }

    static JsonElement? ReadOptionalJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path} is not a JSON object");
            return doc.RootElement.Clone();
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
    }

    // A special token is either a string or an AddedToken object {"content": ...} (SD 1.x's tokenizer_config.json).
    static string? TokenContent(JsonElement? json, string key)
    {
        if (json is not { } obj || !obj.TryGetProperty(key, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }

    /// <summary>Lengths above this in tokenizer_config.json are read as "no length set" (prompts are padded to the length).</summary>
    public const int LargestModelMaxLength = 1 << 16;

    // transformers writes a huge sentinel (1e30) when no length was set; CLIP's text encoder then still takes 77. Any
    // length past LargestModelMaxLength is read so too: padding every prompt to 2^31 - 1 ids would exhaust memory.
    static int ModelMaxLengthOf(JsonElement? config, string path)
    {
        if (config is not { } obj || !obj.TryGetProperty("model_max_length", out var v)) return DefaultModelMaxLength;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var length) || length < 2)
            throw new InvalidDataException($"{path}: model_max_length must be a number >= 2; got {v.GetRawText()}");
        return length > LargestModelMaxLength ? DefaultModelMaxLength : (int)length;
    }

    /// <summary>GPT-2's reversible byte ↔ printable-character map that byte-level BPE vocabularies are written in.</summary>
    static class ByteLevel
    {
        static readonly Dictionary<char, byte> ByChar = Build();

        internal static byte[] Decode(char c) =>
            ByChar.TryGetValue(c, out var b) ? [b] : Encoding.UTF8.GetBytes(c.ToString());

        // Printable Latin-1 bytes map to themselves; the other 68 bytes to U+0100 onwards, in byte order.
        static Dictionary<char, byte> Build()
        {
            var map = new Dictionary<char, byte>();
            int next = 0;
            for (int b = 0; b < 256; b++)
            {
                bool printable = b is (>= '!' and <= '~') or (>= '¡' and <= '¬') or (>= '®' and <= 'ÿ');
                map[printable ? (char)b : (char)(256 + next++)] = (byte)b;
            }
            return map;
        }
    }
}
