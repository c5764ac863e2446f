using SharpVision.Nn;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.Quantization;

/// <summary>
/// The vector-quantisation bottleneck of VQ-VAE (van den Oord et al. 2017, https://arxiv.org/abs/1711.00937):
/// each C-vector of the encoder output is replaced by its nearest code of a learned codebook of n_e codes.
/// Follows diffusers' VectorQuantizer (src/diffusers/models/autoencoders/vae.py, 0.40) for the forward pass,
/// the losses and the <c>legacy</c> weighting, with the codebook at <c>embedding.weight</c> (n_e, vq_embed_dim)
/// so VQModel checkpoints load; adds sonnet's VectorQuantizerEMA updates (sonnet/src/nets/vqvae.py, v2),
/// dead-code restarts and k-means initialisation (as in lucidrains/vector-quantize-pytorch).
/// </summary>
/// <remarks>
/// <para>The training objective (paper eq. 3), for encoder output z_e(x), its nearest code e and decoder output:</para>
/// <code>
/// L = log p(x | z_q(x))  +  ||sg[z_e(x)] − e||²  +  β ||z_e(x) − sg[e]||²
///     reconstruction        codebook loss           commitment loss
/// </code>
/// <para>sg[·] is the stop-gradient: identity forward, zero derivative backward. In the codebook loss sg[z_e]
/// keeps the encoder fixed so only the code moves toward the encoder output (a k-means step taken by
/// gradient); in the commitment loss sg[e] keeps the code fixed so only the encoder is pulled toward its code,
/// weighted by β, so its output does not grow away from the codebook. The reconstruction term cannot
/// differentiate through the argmin, so the decoder's input gradient is copied to the encoder
/// (straight-through estimator): z_q = z_e + sg[e − z_e], which is e forward and z_e backward.</para>
/// <para>diffusers' <c>legacy</c> weighting (the default there, and what its checkpoints were trained with)
/// puts β on the codebook term instead: ||sg[z_e] − e||²·β + ||z_e − sg[e]||². Squared norms are means
/// over every element, as in the reference.</para>
/// <para>EMA updates (paper appendix A.1) replace the codebook loss: with n_i the number of vectors assigned to
/// code i in the batch and m_i their sum, N_i ← γN_i + (1−γ)n_i, M_i ← γM_i + (1−γ)m_i, e_i = M_i / Ñ_i with
/// Laplace-smoothed Ñ_i = (N_i + ε) / (Σ_j N_j + n_e ε) · Σ_j N_j. As in sonnet, both averages are debiased
/// (divided by 1 − γ^t after t updates, which is the same as using decay γ(1 − γ^(t−1)) / (1 − γ^t) at step t),
/// so the first update sets them to that batch's statistics and codes unused by it become zero vectors until
/// used (or restarted, <see cref="VectorQuantizerOptions.DeadCodeThreshold"/>).</para>
/// <para>Not supported from diffusers: <c>remap</c> (re-indexing through a .npy list of used codes). Indices are
/// always returned as (B, H, W), diffusers' <c>sane_index_shape</c>; flatten them for its default (B·H·W).</para>
/// </remarks>
public sealed class VectorQuantizer : nn.Module<Tensor, VectorQuantizerOutput>
{
    /// <summary>Number of codes.</summary>
    public readonly int n_e;
    /// <summary>Dimension of each code, equal to the input's channel count.</summary>
    public readonly int vq_embed_dim;
    /// <summary>The codebook: <c>embedding.weight</c> (n_e, vq_embed_dim).</summary>
    public readonly Embedding embedding;
    /// <summary>EMA only: debiased moving average N of each code's cluster size, (n_e).</summary>
    public readonly Tensor? ema_cluster_size;
    /// <summary>EMA only: debiased moving average M of the sum of the vectors assigned to each code, (n_e, vq_embed_dim).</summary>
    public readonly Tensor? ema_embedding_sum;
    /// <summary>EMA only: number of moving-average updates so far, () int64.</summary>
    public readonly Tensor? ema_steps;
    /// <summary>k-means only: () bool, whether the codebook has been initialised (saved, so a loaded codebook is kept).</summary>
    public readonly Tensor? initted;

    readonly VectorQuantizerOptions options;
    readonly Generator? generator;

    /// <param name="numEmbeddings">n_e, the codebook size.</param>
    /// <param name="embeddingDim">Code dimension, the input's channel count.</param>
    /// <param name="options">Loss weighting and codebook update; null for diffusers' defaults.</param>
    /// <param name="generator">Random source of the initial codebook, k-means seeding and dead-code restarts.</param>
    /// <param name="dtype">Floating dtype of the codebook and EMA state.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or option is out of range (codebook size &lt; 1 included).</exception>
    public VectorQuantizer(int numEmbeddings, int embeddingDim, VectorQuantizerOptions? options = null,
                           Generator? generator = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(VectorQuantizer))
    {
        if (numEmbeddings < 1)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), numEmbeddings, $"codebook size must be >= 1; got {numEmbeddings}");
        if (embeddingDim < 1)
            throw new ArgumentOutOfRangeException(nameof(embeddingDim), embeddingDim, $"code dimension must be >= 1; got {embeddingDim}");
        this.options = options ?? new VectorQuantizerOptions();
        this.options.Validate();
        this.generator = generator;
        n_e = numEmbeddings;
        vq_embed_dim = embeddingDim;

        embedding = nn.Embedding(numEmbeddings, embeddingDim, dtype: dtype);
        using (torch.no_grad())
            Codebook.uniform_(-1.0 / numEmbeddings, 1.0 / numEmbeddings, generator: generator); // diffusers' init
        if (this.options.Update == QuantizerUpdate.Ema)
        {
            Codebook.requires_grad = false; // moved by the moving averages, not by an optimiser
            ema_cluster_size = zeros(numEmbeddings, dtype: dtype);
            ema_embedding_sum = zeros(numEmbeddings, embeddingDim, dtype: dtype);
            ema_steps = zeros(Array.Empty<long>(), dtype: ScalarType.Int64);
        }
        if (this.options.KMeansInit)
            initted = zeros(Array.Empty<long>(), dtype: ScalarType.Bool);
        RegisterComponents();
    }

    /// <summary>The options this quantizer was built with.</summary>
    public VectorQuantizerOptions Options => options;

    /// <summary>The codebook parameter, (n_e, vq_embed_dim).</summary>
    public Parameter Codebook => embedding.weight ?? throw new InvalidOperationException("embedding has no weight");

    /// <summary>Quantises <paramref name="z"/>; in training mode also runs k-means initialisation, EMA updates and restarts as configured.</summary>
    /// <param name="z">(B, C, H, W) encoder output with C = vq_embed_dim.</param>
    /// <exception cref="ArgumentException"><paramref name="z"/> is not (B, vq_embed_dim, H, W), or contains NaN.</exception>
    public override VectorQuantizerOutput forward(Tensor z)
    {
        Shapes.RequireRank(z, 4, $"(B, {vq_embed_dim}, H, W)", nameof(z));
        Shapes.RequireDim(z, 1, vq_embed_dim, $"(B, {vq_embed_dim}, H, W) with C equal to the code dimension {vq_embed_dim}", nameof(z));
        using var scope = torch.NewDisposeScope();
        if (z.isnan().any().item<bool>())
            throw new ArgumentException($"z {Shapes.Format(z)} contains NaN; the nearest code of a NaN vector is undefined", nameof(z));

        var zLast = z.permute(0, 2, 3, 1).contiguous();   // (B, H, W, C)
        var flat = zLast.view(-1, vq_embed_dim);           // (N, C), N = B·H·W
        if (training && initted is not null && !initted.item<bool>())
            KMeansInit(flat);

        var indices = CodebookSearch.Nearest(flat, Codebook, options.ChunkSize);   // (N)
        // The losses use the gathered codes, so the codebook gradient is an index_add into the selected rows.
        var zq = Codebook.index_select(0, indices).view(zLast.shape);              // (B, H, W, C)

        // The squared norms are means over all elements, as in the reference; mse_loss computes each in one op
        // without keeping the (N, C) difference and square alive in this scope (they dominate peak memory).
        // Commitment term ||z_e − sg[e]||²: the code is a constant, the gradient reaches the encoder only.
        var commitment = nn.functional.mse_loss(zLast, zq.detach());
        Tensor codebookLoss, commitmentLoss;
        if (options.Update == QuantizerUpdate.Gradient)
        {
            // Codebook term ||sg[z_e] − e||²: the encoder output is a constant, the gradient reaches the code only.
            var codebookTerm = nn.functional.mse_loss(zq, zLast.detach());
            codebookLoss = options.Legacy ? options.Beta * codebookTerm : codebookTerm;
            commitmentLoss = options.Legacy ? commitment : options.Beta * commitment;
        }
        else
        {
            codebookLoss = zeros(Array.Empty<long>(), dtype: z.dtype, device: z.device);
            commitmentLoss = options.Beta * commitment;
        }
        var loss = commitmentLoss + codebookLoss;

        // Straight-through: forward value e, backward identity to z_e (sg[e − z_e] has no gradient).
        Tensor quantized, shift;
        using (torch.no_grad()) shift = zq - zLast;                     // (B, H, W, C) sg[e − z_e]
        using (shift)
        using (var straight = zLast + shift)                            // (B, H, W, C)
        using (var channelsFirst = straight.permute(0, 3, 1, 2))        // (B, C, H, W) view
            quantized = channelsFirst.contiguous();

        var counts = bincount(indices, minlength: n_e).to(flat.dtype);             // (n_e)
        var (perplexity, usage) = Statistics(counts, flat.shape[0]);

        if (training && options.Update == QuantizerUpdate.Ema)
        {
            EmaUpdate(flat, indices, counts);
            if (options.DeadCodeThreshold > 0) RestartDeadCodes(flat);
        }

        var output = new VectorQuantizerOutput(quantized, loss, codebookLoss, commitmentLoss,
            indices.view(z.shape[0], z.shape[2], z.shape[3]), perplexity, usage);
        foreach (var t in new[] { quantized, loss, codebookLoss, commitmentLoss, output.Indices, perplexity, usage })
            t.MoveToOuterDisposeScope();
        return output;
    }

    /// <summary>Perplexity exp(−Σ p log p) of the code histogram and the fraction of codes used.</summary>
    /// <param name="counts">(n_e) vectors assigned to each code.</param>
    /// <param name="total">Number of vectors.</param>
    /// <returns>Two scalars: perplexity in [1, n_e] and usage in (0, 1].</returns>
    public static (Tensor Perplexity, Tensor Usage) Statistics(Tensor counts, long total)
    {
        using var scope = torch.NewDisposeScope();
        var p = counts / total;
        // The 1e-10 (as in the VQ-VAE reference code) makes 0·log 0 count as 0.
        var perplexity = (-(p * (p + 1e-10).log()).sum()).exp();
        var usage = counts.gt(0).to(counts.dtype).mean();
        return (perplexity.MoveToOuterDisposeScope(), usage.MoveToOuterDisposeScope());
    }

    /// <summary>The codes of <paramref name="indices"/> laid out as a (B, C, H, W) latent (diffusers' get_codebook_entry).</summary>
    /// <param name="indices">B·H·W code indices in any shape.</param>
    /// <param name="shape">(B, H, W, C) of the latent.</param>
    /// <returns>(B, C, H, W).</returns>
    /// <exception cref="ArgumentException">The shape does not hold the indices, C is not the code dimension, or an index is outside [0, n_e).</exception>
    public Tensor GetCodebookEntry(Tensor indices, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length != 4 || shape[3] != vq_embed_dim || shape[0] * shape[1] * shape[2] != indices.numel())
            throw new ArgumentException($"shape must be (B, H, W, {vq_embed_dim}) with B·H·W = {indices.numel()} indices; got {Shapes.Format(shape)}", nameof(shape));
        using var scope = torch.NewDisposeScope();
        var flatIndices = indices.reshape(-1);
        if (flatIndices.numel() > 0 && (flatIndices.min().item<long>() < 0 || flatIndices.max().item<long>() >= n_e))
            throw new ArgumentException($"indices must be in [0, {n_e})", nameof(indices));
        var codes = Codebook.index_select(0, flatIndices).view(shape); // (B, H, W, C)
        return codes.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope(); // (B, C, H, W)
    }

    /// <summary>One debiased EMA step of the cluster sizes and sums, then e_i = M_i / Ñ_i (Laplace-smoothed).</summary>
    void EmaUpdate(Tensor flat, Tensor indices, Tensor counts)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        long t = ema_steps!.item<long>() + 1;
        double decay = options.Decay;
        // Debiasing as a per-step decay: the average after t steps weighs the newest batch (1 − γ)/(1 − γ^t).
        double w = decay * (1 - Math.Pow(decay, t - 1)) / (1 - Math.Pow(decay, t));
        var sums = zeros(n_e, vq_embed_dim, dtype: flat.dtype, device: flat.device)
            .index_add_(0, indices, flat.detach(), 1);                                  // (n_e, C) m_i
        ema_cluster_size!.mul_(w).add_(counts, alpha: 1 - w);
        ema_embedding_sum!.mul_(w).add_(sums, alpha: 1 - w);
        ema_steps.fill_(t);

        var n = ema_cluster_size.sum();
        var smoothed = (ema_cluster_size + options.Epsilon) / (n + n_e * options.Epsilon) * n; // (n_e) Ñ_i
        Codebook.copy_(ema_embedding_sum / smoothed.unsqueeze(1));
    }

    /// <summary>
    /// Re-seeds codes whose EMA cluster size fell below the threshold with random encoder outputs of the batch,
    /// and resets their averages to (threshold, threshold · seed) so that the next update starts from the seed.
    /// </summary>
    void RestartDeadCodes(Tensor flat)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var dead = ema_cluster_size!.lt(options.DeadCodeThreshold).nonzero().view(-1); // (M)
        long m = dead.shape[0];
        if (m == 0) return;
        var seeds = flat.detach().index_select(0, SampleRows(flat.shape[0], m, flat.device)); // (M, C)
        Codebook.index_copy_(0, dead, seeds);
        ema_cluster_size.index_fill_(0, dead, options.DeadCodeThreshold);
        ema_embedding_sum!.index_copy_(0, dead, seeds * options.DeadCodeThreshold);
    }

    /// <summary>Lloyd's k-means on the first training batch, seeded with distinct random rows; empty clusters keep their centre.</summary>
    void KMeansInit(Tensor flat)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var x = flat.detach();
        var means = x.index_select(0, SampleRows(x.shape[0], n_e, x.device)).clone(); // (n_e, C)
        for (int i = 0; i < options.KMeansIterations; i++)
        {
            using var step = torch.NewDisposeScope();
            var assigned = CodebookSearch.Nearest(x, means, options.ChunkSize);          // (N)
            var counts = bincount(assigned, minlength: n_e).to(x.dtype);                // (n_e)
            var sums = zeros(n_e, vq_embed_dim, dtype: x.dtype, device: x.device).index_add_(0, assigned, x, 1);
            var centres = sums / counts.clamp_min(1).unsqueeze(1);
            means.copy_(torch.where(counts.eq(0).unsqueeze(1), means, centres));
        }
        Codebook.copy_(means);
        initted!.fill_(true);
    }

    /// <summary><paramref name="count"/> row indices below <paramref name="rows"/>: distinct when there are enough rows.</summary>
    Tensor SampleRows(long rows, long count, Device device)
    {
        var picked = rows >= count
            ? randperm(rows, generator: generator).narrow(0, 0, count)
            : randint(rows, [count], generator: generator);
        return picked.to(device);
    }
}
