using System.Text.Json;
using SharpVision.Diffusion.Clip;

namespace SharpVision.Tests.Clip;

/// <summary>
/// Kind <c>clip_tokenizer</c>: openai/CLIP's simple_tokenizer on a transformers tokenizer folder — each prompt's BPE ids
/// and decode (prompts.json), and the padded 77-token input_ids/attention_mask a Stable Diffusion pipeline gets.
/// </summary>
public sealed class CLIPTokenizerParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["clip_tokenizer"];

    public void Run(ParityCase c, Precision p)
    {
        var tokenizer = CLIPTokenizer.FromPretrained(c.PathOf(c.String("tokenizer_dir") ?? "tokenizer"));
        Assert.Equal(c.String("pad_token"), tokenizer.PadToken);
        var prompts = CLIPPrompt.Read(c.PathOf(c.String("prompts_file") ?? "prompts.json"));
        CLIPPrompt.AssertAll(tokenizer, prompts, c.Name);
        using var batch = tokenizer.TokenizeBatch(prompts.Select(x => x.Text).ToList(), (int?)c.Long("max_length"));
        c.Expect("input_ids", batch.InputIds, p);
        c.Expect("attention_mask", batch.AttentionMask, p);
    }
}

/// <summary>One entry of a prompts.json: the text, openai's BPE ids (no special tokens) and openai's decode of them.</summary>
public sealed record CLIPPrompt(string Text, int[] BpeIds, string Decoded)
{
    public static IReadOnlyList<CLIPPrompt> Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(e => new CLIPPrompt(
            e.GetProperty("text").GetString()!,
            e.GetProperty("bpe_ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(),
            e.GetProperty("decoded").GetString()!)).ToList();
    }

    /// <summary>Every prompt encodes to its ids and its ids decode to the reference text.</summary>
    public static void AssertAll(CLIPTokenizer tokenizer, IReadOnlyList<CLIPPrompt> prompts, string what)
    {
        foreach (var prompt in prompts)
        {
            var ids = tokenizer.Encode(prompt.Text);
            Assert.True(ids.SequenceEqual(prompt.BpeIds),
                $"{what}: '{prompt.Text}' encodes to [{string.Join(", ", ids)}], expected [{string.Join(", ", prompt.BpeIds)}]");
            Assert.Equal(prompt.Decoded, tokenizer.Decode(prompt.BpeIds));
        }
    }
}
