using SharpVision.Diffusion.Quantization;

namespace SharpVision.Tests.Quantization;

public sealed class VectorQuantizerTests
{
    /// <summary>(1, 2, 1, W) from 2-D points listed position by position.</summary>
    static Tensor Points(params double[] xy) =>
        tensor(xy, dtype: ScalarType.Float64).view(1, -1, 2).permute(0, 2, 1).unsqueeze(2).contiguous(); // (1, 2, 1, W)

    static VectorQuantizer WithCodebook(double[] codes, int dim, VectorQuantizerOptions options, Generator? generator = null)
    {
        var vq = new VectorQuantizer(codes.Length / dim, dim, options, generator, ScalarType.Float64);
        using (torch.no_grad()) vq.Codebook.copy_(tensor(codes, dtype: ScalarType.Float64).view(-1, dim));
        return vq;
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static void AssertClose(double[] expected, Tensor actual, double tol = 1e-12)
    {
        var got = actual.to(ScalarType.Float64).reshape(-1).data<double>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - expected[i]) <= tol, $"element {i}: got {got[i]:R}, expected {expected[i]:R}");
    }

    [Fact]
    public void State_dict_has_diffusers_key_and_mode_specific_buffers()
    {
        using var plain = new VectorQuantizer(16, 4);
        var keys = plain.state_dict();
        Assert.Equal(["embedding.weight"], keys.Keys.Order());
        Assert.Equal([16L, 4L], keys["embedding.weight"].shape);
        var bound = 1.0 / 16; // diffusers' uniform(−1/n_e, 1/n_e)
        Assert.True(plain.Codebook.abs().max().item<float>() <= bound);

        using var ema = new VectorQuantizer(16, 4, new VectorQuantizerOptions { Update = QuantizerUpdate.Ema, KMeansInit = true });
        Assert.Equal(["ema_cluster_size", "ema_embedding_sum", "ema_steps", "embedding.weight", "initted"], ema.state_dict().Keys.Order());
        Assert.False(ema.Codebook.requires_grad);
    }

    [Fact]
    public void Straight_through_passes_the_output_gradient_to_z_and_nothing_to_the_codebook()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(1);
        using var vq = new VectorQuantizer(8, 3, new VectorQuantizerOptions { Legacy = false }, g);
        var z = randn([2, 3, 4, 5], generator: g).requires_grad_(true);
        var upstream = randn([2, 3, 4, 5], generator: g);
        var output = vq.forward(z);
        (output.Quantized * upstream).sum().backward();
        Assert.True(Same(z.grad!, upstream));                              // ∂L/∂z = ∂L/∂z_q exactly
        Assert.True(vq.Codebook.grad is null || vq.Codebook.grad.abs().max().item<float>() == 0);
        // Forward value: the code of each position (up to the rounding of z + (e − z)).
        var codes = vq.GetCodebookEntry(output.Indices, [2, 4, 5, 3]);
        Assert.True(output.Quantized.allclose(codes, rtol: 0, atol: 1e-6));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Codebook_gets_gradient_only_from_the_codebook_term_and_z_only_from_the_commitment_term(bool legacy)
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(2);
        const double beta = 0.25;
        using var vq = new VectorQuantizer(8, 3, new VectorQuantizerOptions { Beta = beta, Legacy = legacy }, g, ScalarType.Float64);
        var z = randn([2, 3, 4, 4], dtype: ScalarType.Float64, generator: g).requires_grad_(true);
        var output = vq.forward(z);
        var codes = vq.GetCodebookEntry(output.Indices, [2, 4, 4, 3]).detach();  // (B, C, H, W) e
        var mse = (z.detach() - codes).pow(2).mean().item<double>();
        double wCodebook = legacy ? beta : 1, wCommit = legacy ? 1 : beta;
        Assert.Equal(wCodebook * mse, output.CodebookLoss.item<double>(), 12);
        Assert.Equal(wCommit * mse, output.CommitmentLoss.item<double>(), 12);
        Assert.Equal((wCodebook + wCommit) * mse, output.Loss.item<double>(), 12);

        output.CodebookLoss.backward(retain_graph: true);
        Assert.True(z.grad is null || z.grad.abs().max().item<double>() == 0);
        // d/de of w·mean((e − sg z)²) = 2w(e − z)/numel, summed over the positions assigned to e.
        var expected = zeros(8, 3, dtype: ScalarType.Float64)
            .index_add_(0, output.Indices.reshape(-1), (codes - z.detach()).permute(0, 2, 3, 1).reshape(-1, 3), 2 * wCodebook / z.numel());
        Assert.True(vq.Codebook.grad!.allclose(expected, rtol: 1e-12, atol: 1e-15));

        vq.Codebook.grad!.zero_();
        output.CommitmentLoss.backward();
        Assert.Equal(0, vq.Codebook.grad!.abs().max().item<double>());
        Assert.True(z.grad!.allclose(2 * wCommit * (z.detach() - codes) / z.numel(), rtol: 1e-12, atol: 1e-15));
    }

    [Fact]
    public void Ema_update_matches_a_hand_computed_example()
    {
        // Codes e0 = (0, 0), e1 = (10, 0), e2 = (0, 10); γ = 0.5, ε = 1e-5.
        var options = new VectorQuantizerOptions { Update = QuantizerUpdate.Ema, Decay = 0.5, Epsilon = 1e-5, Beta = 0.25 };
        using var vq = WithCodebook([0, 0, 10, 0, 0, 10], 2, options);
        vq.train();

        // Step 1: (1, 0) and (−1, 2) go to e0, (9, 1) to e1, nothing to e2: n = (2, 1, 0), m = ((0, 2), (9, 1), 0).
        // Debiased, the first step's averages are the batch's own: N = (2, 1, 0), M = m.
        var first = vq.forward(Points(1, 0, -1, 2, 9, 1));
        Assert.Equal(new long[] { 0, 0, 1 }, first.Indices.reshape(-1).data<long>().ToArray());
        AssertClose([2, 1, 0], vq.ema_cluster_size!);
        AssertClose([0, 2, 9, 1, 0, 0], vq.ema_embedding_sum!);
        // Ñ_i = (N_i + ε) / (ΣN + 3ε) · ΣN with ΣN = 3; e_i = M_i / Ñ_i (e2 = 0 / Ñ_2 = 0).
        double s0 = (2 + 1e-5) / (3 + 3e-5) * 3, s1 = (1 + 1e-5) / (3 + 3e-5) * 3;
        AssertClose([0, 2 / s0, 9 / s1, 1 / s1, 0, 0], vq.Codebook);
        Assert.Equal(1, vq.ema_steps!.item<long>());

        // Step 2 (codes now ≈ (0, 1), (9, 1), (0, 0)): (0, 1) → e0, (5, 5) → e1, (0, 9) → e0.
        // The debiased decay of step 2 is γ(1 − γ)/(1 − γ²) = 1/3:
        // N = (2, 1, 0)/3 + 2(2, 1, 0)/3 = (2, 1, 0); M0 = (0, 2)/3 + 2(0, 10)/3 = (0, 22/3); M1 = (9, 1)/3 + 2(5, 5)/3 = (19/3, 11/3).
        var second = vq.forward(Points(0, 1, 5, 5, 0, 9));
        Assert.Equal(new long[] { 0, 1, 0 }, second.Indices.reshape(-1).data<long>().ToArray());
        AssertClose([2, 1, 0], vq.ema_cluster_size!);
        AssertClose([0, 22.0 / 3, 19.0 / 3, 11.0 / 3, 0, 0], vq.ema_embedding_sum!);
        AssertClose([0, 22.0 / 3 / s0, 19.0 / 3 / s1, 11.0 / 3 / s1, 0, 0], vq.Codebook);
        Assert.Equal(2, vq.ema_steps!.item<long>());

        // The loss is the commitment term only: β·mean((z − sg e)²) with the codes of step 2's search.
        var e = new[] { 0, 2 / s0, 9 / s1, 1 / s1 };
        var z = new double[] { 0, 1, 5, 5, 0, 9 };
        double sq = Math.Pow(z[0] - e[0], 2) + Math.Pow(z[1] - e[1], 2) + Math.Pow(z[2] - e[2], 2) + Math.Pow(z[3] - e[3], 2)
                  + Math.Pow(z[4] - e[0], 2) + Math.Pow(z[5] - e[1], 2);
        Assert.Equal(0.25 * sq / 6, second.Loss.item<double>(), 12);
        Assert.Equal(0, second.CodebookLoss.item<double>());

        // Evaluation mode leaves the codebook and the averages alone.
        vq.eval();
        var before = vq.Codebook.clone();
        vq.forward(Points(3, 3, 7, 7));
        Assert.True(Same(vq.Codebook, before));
        Assert.Equal(2, vq.ema_steps!.item<long>());
    }

    [Fact]
    public void Ema_codebook_receives_no_gradient_and_z_receives_the_commitment_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(3);
        using var vq = new VectorQuantizer(8, 3, new VectorQuantizerOptions { Update = QuantizerUpdate.Ema, Beta = 0.5 }, g, ScalarType.Float64);
        vq.train();
        var z = randn([1, 3, 4, 4], dtype: ScalarType.Float64, generator: g).requires_grad_(true);
        var output = vq.forward(z);
        output.Loss.backward();
        Assert.Null(vq.Codebook.grad);
        // Codes used for the loss are those before this step's update: recover them from z_q's forward value.
        var codes = output.Quantized.detach();
        Assert.True(z.grad!.allclose(2 * 0.5 * (z.detach() - codes) / z.numel(), rtol: 1e-9, atol: 1e-12));
    }

    [Fact]
    public void Dead_code_restart_reseeds_only_dead_codes_from_batch_rows()
    {
        // Codes 2 and 3 are far from every input, so after one update their cluster size is 0 < 0.5.
        double[] codebook = [0, 0, 10, 0, 100, 100, -100, 100];
        double[] points = [1, 0, -1, 1, 0, -1, 0.5, 0.5, 9, 0, 11, 1, 10, -1, 9.5, 0.5];
        var restart = new VectorQuantizerOptions { Update = QuantizerUpdate.Ema, DeadCodeThreshold = 0.5 };

        using var vq = WithCodebook(codebook, 2, restart, new Generator(42));
        using var reference = WithCodebook(codebook, 2, restart with { DeadCodeThreshold = 0 });
        vq.train();
        reference.train();
        vq.forward(Points(points));
        reference.forward(Points(points));

        // Live codes: exactly the EMA result.
        Assert.True(Same(vq.Codebook.narrow(0, 0, 2), reference.Codebook.narrow(0, 0, 2)));
        Assert.True(Same(vq.ema_cluster_size!.narrow(0, 0, 2), reference.ema_cluster_size!.narrow(0, 0, 2)));
        // Dead codes: two distinct rows of the batch, with averages reset to (threshold, threshold · seed).
        var rows = tensor(points, dtype: ScalarType.Float64).view(-1, 2);
        var seeded = vq.Codebook.narrow(0, 2, 2);
        var match = seeded.unsqueeze(1).eq(rows.unsqueeze(0)).all(2);          // (2, 8)
        Assert.True(match.any(1).all().item<bool>(), "restarted codes must be encoder outputs of the batch");
        Assert.False(match[0].eq(match[1]).all().item<bool>(), "two dead codes got the same row");
        AssertClose([0.5, 0.5], vq.ema_cluster_size!.narrow(0, 2, 2));
        Assert.True(Same(vq.ema_embedding_sum!.narrow(0, 2, 2), seeded * 0.5));

        // The generator makes restarts reproducible.
        using var again = WithCodebook(codebook, 2, restart, new Generator(42));
        again.train();
        again.forward(Points(points));
        Assert.True(Same(again.Codebook, vq.Codebook));
    }

    [Fact]
    public void KMeans_init_reduces_distortion_against_random_initialisation()
    {
        using var scope = torch.NewDisposeScope();
        // 8 well separated clusters of 64 points in 4-D.
        var g = new Generator(5);
        var centres = randn([8, 4], dtype: ScalarType.Float64, generator: g) * 5;
        var data = (centres.repeat_interleave(64, 0) + 0.3 * randn([512, 4], dtype: ScalarType.Float64, generator: g)); // (512, 4)
        var z = data.t().reshape(1, 4, 16, 32);                                                                        // (1, 4, 16, 32)
        var mseOnly = new VectorQuantizerOptions { Beta = 1, Legacy = false };

        double Distortion(VectorQuantizer vq) { vq.eval(); return vq.forward(z).CommitmentLoss.item<double>(); }

        using var kmeans = new VectorQuantizer(8, 4, mseOnly with { KMeansInit = true, KMeansIterations = 10 }, new Generator(11), ScalarType.Float64);
        kmeans.train();
        kmeans.forward(z);
        Assert.True(kmeans.initted!.item<bool>());
        var afterInit = kmeans.Codebook.clone();
        kmeans.forward(z); // initialised once only
        Assert.True(Same(kmeans.Codebook, afterInit));

        // Random initialisations: diffusers' uniform(−1/n_e, 1/n_e), and random data rows (k-means' own seeding).
        using var uniform = new VectorQuantizer(8, 4, mseOnly, new Generator(11), ScalarType.Float64);
        using var rows = new VectorQuantizer(8, 4, mseOnly, dtype: ScalarType.Float64);
        using (torch.no_grad()) rows.Codebook.copy_(data.index_select(0, randperm(512, generator: new Generator(11)).narrow(0, 0, 8)));

        double dk = Distortion(kmeans), du = Distortion(uniform), dr = Distortion(rows);
        Assert.True(dk < dr && dk < du, $"k-means {dk}, random rows {dr}, uniform {du}");
        Assert.True(dk < 0.5 * dr, $"Lloyd iterations should at least halve the distortion of random rows: {dk} vs {dr}");
    }

    [Fact]
    public void Ema_state_follows_the_module_dtype_and_steps_stay_integer()
    {
        using var scope = torch.NewDisposeScope();
        using var vq = new VectorQuantizer(8, 3, new VectorQuantizerOptions { Update = QuantizerUpdate.Ema, DeadCodeThreshold = 0.1 }, new Generator(4));
        vq.to(ScalarType.Float64);
        vq.train();
        var output = vq.forward(randn([2, 3, 4, 4], dtype: ScalarType.Float64, generator: new Generator(5)));
        Assert.Equal(ScalarType.Float64, output.Quantized.dtype);
        Assert.Equal(ScalarType.Float64, vq.Codebook.dtype);
        Assert.Equal(ScalarType.Float64, vq.ema_cluster_size!.dtype);
        Assert.Equal(ScalarType.Int64, vq.ema_steps!.dtype);
        Assert.Equal(1, vq.ema_steps.item<long>());
        Assert.False(vq.Codebook.requires_grad);
    }

    [Fact]
    public void Perplexity_and_usage_of_known_assignments()
    {
        using var vq = WithCodebook([0, 0, 10, 0, 0, 10, 10, 10], 2, new VectorQuantizerOptions());
        vq.eval();
        // Two codes used twice each: perplexity 2, half the codebook used.
        var half = vq.forward(Points(0, 0, 0.1, 0, 10, 0, 9.9, 0));
        Assert.Equal(2, half.Perplexity.item<double>(), 6);
        Assert.Equal(0.5, half.Usage.item<double>());
        // Every code once: perplexity n_e.
        var all = vq.forward(Points(0, 0, 10, 0, 0, 10, 10, 10));
        Assert.Equal(4, all.Perplexity.item<double>(), 6);
        Assert.Equal(1, all.Usage.item<double>());
        // One code only: perplexity 1.
        var one = vq.forward(Points(1, 1, -1, -1, 0, 0));
        Assert.Equal(1, one.Perplexity.item<double>(), 6);
        Assert.Equal(0.25, one.Usage.item<double>());
        Assert.Equal([1L, 1, 3], one.Indices.shape);

        // Counts (3, 1, 0, 0): p = (3/4, 1/4), perplexity = exp(−(¾ ln ¾ + ¼ ln ¼)).
        var (perplexity, usage) = VectorQuantizer.Statistics(tensor(new double[] { 3, 1, 0, 0 }), 4);
        Assert.Equal(Math.Exp(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25))), perplexity.item<double>(), 8);
        Assert.Equal(0.5, usage.item<double>());
    }

    [Fact]
    public void Chunk_size_does_not_change_the_result()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(9);
        var z = randn([2, 4, 9, 7], dtype: ScalarType.Float64, generator: g);
        using var whole = new VectorQuantizer(32, 4, new VectorQuantizerOptions(), new Generator(1), ScalarType.Float64);
        using var chunked = new VectorQuantizer(32, 4, new VectorQuantizerOptions { ChunkSize = 5 }, new Generator(1), ScalarType.Float64);
        var a = whole.forward(z);
        var b = chunked.forward(z);
        Assert.True(Same(a.Indices, b.Indices));
        Assert.True(Same(a.Quantized, b.Quantized));
    }

    [Fact]
    public void Bad_input_is_rejected_with_a_clear_message()
    {
        using var scope = torch.NewDisposeScope();
        using var vq = new VectorQuantizer(16, 4);

        var channels = Assert.Throws<ArgumentException>(() => vq.forward(zeros(2, 3, 8, 8)));
        Assert.Contains("(B, 4, H, W)", channels.Message);
        Assert.Contains("(2, 3, 8, 8)", channels.Message);
        Assert.Equal("z", channels.ParamName);

        var rank = Assert.Throws<ArgumentException>(() => vq.forward(zeros(2, 4, 8)));
        Assert.Contains("(2, 4, 8)", rank.Message);

        var input = zeros(1, 4, 2, 2);
        input[0, 1, 1, 0] = tensor(float.NaN);
        var nan = Assert.Throws<ArgumentException>(() => vq.forward(input));
        Assert.Contains("contains NaN", nan.Message);

        var size = Assert.ThrowsAny<ArgumentException>(() => new VectorQuantizer(0, 4));
        Assert.Contains("codebook size must be >= 1", size.Message);

        var restart = Assert.Throws<ArgumentException>(() => new VectorQuantizer(4, 2, new VectorQuantizerOptions { DeadCodeThreshold = 1 }));
        Assert.Contains("Ema", restart.Message);

        var decay = Assert.ThrowsAny<ArgumentException>(() => new VectorQuantizer(4, 2, new VectorQuantizerOptions { Decay = 1 }));
        Assert.Contains("decay", decay.Message);

        var entry = Assert.Throws<ArgumentException>(() => vq.GetCodebookEntry(zeros(new long[] { 6 }, dtype: ScalarType.Int64), [1, 2, 2, 4]));
        Assert.Contains("(1, 2, 2, 4)", entry.Message);
    }
}
