using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Clip;

/// <summary>
/// Token plus learned absolute position embeddings (transformers models/clip/modeling_clip.py <c>CLIPTextEmbeddings</c>).
/// transformers' <c>position_ids</c> buffer is not kept: positions are 0..L−1, computed here.
/// </summary>
public sealed class CLIPTextEmbeddings : nn.Module<Tensor, Tensor>
{
    public readonly Embedding token_embedding;
    public readonly Embedding position_embedding;

    readonly long max_position_embeddings;

    public CLIPTextEmbeddings(long vocabSize, long hiddenSize, long maxPositionEmbeddings) : base(nameof(CLIPTextEmbeddings))
    {
        token_embedding = nn.Embedding(vocabSize, hiddenSize);
        position_embedding = nn.Embedding(maxPositionEmbeddings, hiddenSize);
        max_position_embeddings = maxPositionEmbeddings;
        RegisterComponents();
    }

    /// <param name="inputIds">(B, L) int64 token ids, L ≤ max_position_embeddings.</param>
    /// <returns>(B, L, hidden_size).</returns>
    /// <exception cref="ArgumentException">inputIds is not (B, L) or L exceeds max_position_embeddings.</exception>
    public override Tensor forward(Tensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.dim() != 2 || inputIds.shape[1] > max_position_embeddings)
            throw new ArgumentException($"inputIds must be (B, L) with L <= {max_position_embeddings}; got {Shapes.Format(inputIds)}", nameof(inputIds));
        using var scope = torch.NewDisposeScope();
        var positions = torch.arange(inputIds.shape[1], ScalarType.Int64, inputIds.device).unsqueeze(0); // (1, L)
        return (token_embedding.call(inputIds) + position_embedding.call(positions)).MoveToOuterDisposeScope();
    }
}
