using SharpVision.Diffusion.Models.Blocks;

namespace SharpVision.Tests.Diffusion;

/// <summary>The shared building blocks against closed-form oracles (the UNet parity cases cover their composition).</summary>
public sealed class UNetBlocksTests
{
    [Theory]
    [InlineData(32, true, 0.0)]
    [InlineData(32, false, 1.0)]
    [InlineData(7, true, 1.0)]
    public void TimestepEmbeddingIsTheSinusoidFormula(int dim, bool flip, double shift)
    {
        var rng = new Random(dim);
        var t = Enumerable.Range(0, 5).Select(_ => (double)rng.Next(0, 1000)).ToArray();
        var emb = Timesteps.GetTimestepEmbedding(tensor(t), dim, flip, shift);
        Assert.Equal(new long[] { 5, dim }, emb.shape);
        Assert.Equal(ScalarType.Float32, emb.dtype);
        int half = dim / 2;
        var got = emb.data<float>().ToArray();
        for (int n = 0; n < t.Length; n++)
            for (int i = 0; i < half; i++)
            {
                double arg = t[n] * Math.Exp(-Math.Log(10000) * i / (half - shift));
                double sin = Math.Sin(arg), cos = Math.Cos(arg);
                // float32 arguments up to ~1000 carry ~1e-4 absolute rounding, like the reference's
                Assert.Equal(flip ? cos : sin, got[n * dim + i], 2e-3);
                Assert.Equal(flip ? sin : cos, got[n * dim + half + i], 2e-3);
            }
        if (dim % 2 == 1)
            for (int n = 0; n < t.Length; n++) Assert.Equal(0f, got[n * dim + dim - 1]);
    }

    [Fact]
    public void AttentionIsSoftmaxOfScaledDotProducts()
    {
        torch.manual_seed(4);
        using var attn = new Attention(8, heads: 2, dimHead: 4, bias: true, normNumGroups: 2, residualConnection: true, rescaleOutputFactor: 2.0);
        attn.to(ScalarType.Float64).eval();
        var x = randn(2, 8, 3, 5, dtype: ScalarType.Float64);
        using var noGrad = torch.no_grad();
        var got = attn.forward(x);

        var tokens = nn.functional.group_norm(x, 2, attn.group_norm!.weight, attn.group_norm.bias, 1e-5).flatten(2).transpose(1, 2); // (2, 15, 8)
        var q = attn.to_q.forward(tokens).view(2, 15, 2, 4).permute(0, 2, 1, 3); // (B, heads, N, d)
        var k = attn.to_k.forward(tokens).view(2, 15, 2, 4).permute(0, 2, 1, 3);
        var v = attn.to_v.forward(tokens).view(2, 15, 2, 4).permute(0, 2, 1, 3);
        var weights = (q.matmul(k.transpose(-1, -2)) / Math.Sqrt(4)).softmax(-1);
        var mixed = weights.matmul(v).permute(0, 2, 1, 3).reshape(2, 15, 8);
        var projected = attn.to_out[0].forward(mixed).transpose(1, 2).reshape(2, 8, 3, 5);
        var expected = (projected + x) / 2.0;
        Assert.True(got.allclose(expected, rtol: 1e-12, atol: 1e-12), $"max diff {(got - expected).abs().max().item<double>()}");
    }

    [Fact]
    public void AttentionRejectsWrongChannels()
    {
        using var attn = new Attention(8, heads: 2, dimHead: 4);
        var e = Assert.Throws<ArgumentException>(() => attn.forward(randn(1, 6, 2, 2)));
        Assert.Contains("(B, 8, H, W)", e.Message);
        Assert.Contains("got (1, 6, 2, 2)", e.Message);
    }

    [Fact]
    public void CrossAttentionTakesKeysFromTheEncoderStates()
    {
        torch.manual_seed(6);
        using var attn = new Attention(8, crossAttentionDim: 5, heads: 2, dimHead: 4);
        attn.eval();
        using var noGrad = torch.no_grad();
        var x = randn(2, 7, 8);
        var context = randn(2, 3, 5);
        var y = attn.forward(x, context);
        Assert.Equal(new long[] { 2, 7, 8 }, y.shape);
        // permuting the encoder tokens permutes keys and values together: the output is unchanged
        var permuted = context.index_select(1, tensor(new long[] { 2, 0, 1 }));
        Assert.True(y.allclose(attn.forward(x, permuted), rtol: 1e-5, atol: 1e-6));
        var e = Assert.Throws<ArgumentException>(() => attn.forward(x, randn(2, 3, 8)));
        Assert.Contains("(2, M, 5)", e.Message);
    }

    [Fact]
    public void ResnetScaleShiftIsNormThenAffineFromTheEmbedding()
    {
        torch.manual_seed(5);
        using var block = new ResnetBlock2D(4, 6, tembChannels: 3, groups: 2, eps: 1e-5, timeEmbeddingNorm: ResnetTimeScaleShift.ScaleShift);
        block.to(ScalarType.Float64).eval();
        var x = randn(2, 4, 5, 5, dtype: ScalarType.Float64);
        var temb = randn(2, 3, dtype: ScalarType.Float64);
        using var noGrad = torch.no_grad();
        var got = block.forward(x, temb);

        var h = block.conv1.forward(nn.functional.silu(block.norm1.forward(x)));
        var st = block.time_emb_proj!.forward(nn.functional.silu(temb)).chunk(2, 1);
        h = block.norm2.forward(h) * (1 + st[0].view(2, 6, 1, 1)) + st[1].view(2, 6, 1, 1);
        h = block.conv2.forward(nn.functional.silu(h));
        var expected = block.conv_shortcut!.forward(x) + h;
        Assert.True(got.allclose(expected, rtol: 1e-12, atol: 1e-12));

        var e = Assert.Throws<ArgumentException>(() => block.forward(x, null));
        Assert.Contains("temb", e.Message);
    }

    [Theory]
    [InlineData(true, false, 10)]
    [InlineData(false, true, 2)] // 2×2 average pooling floors
    [InlineData(false, false, 5)]
    public void ResnetResamplesBothPathsWithoutATimeEmbedding(bool up, bool down, long expectedSize)
    {
        using var block = new ResnetBlock2D(4, 4, tembChannels: null, groups: 2, up: up, down: down, outputScaleFactor: 2.0);
        Assert.Null(block.time_emb_proj);
        Assert.Null(block.conv_shortcut);
        var y = block.forward(randn(1, 4, 5, 5), null);
        Assert.Equal(new long[] { 1, 4, expectedSize, expectedSize }, y.shape);
        Assert.DoesNotContain(block.state_dict().Keys, k => k.StartsWith("upsample", StringComparison.Ordinal) || k.StartsWith("downsample", StringComparison.Ordinal));
    }

    [Fact]
    public void SamplersHalveAndDouble()
    {
        using var down = new Downsample2D(3, useConv: true, outChannels: 5, padding: 0);
        Assert.Equal(new long[] { 2, 5, 4, 4 }, down.forward(randn(2, 3, 8, 8)).shape);
        using var pool = new Downsample2D(3);
        var x = arange(16, dtype: ScalarType.Float32).view(1, 1, 4, 4).expand(1, 3, 4, 4);
        Assert.Equal(2.5f, pool.forward(x)[0, 0, 0, 0].item<float>());
        using var up = new Upsample2D(3);
        var u = up.forward(x);
        Assert.Equal(new long[] { 1, 3, 8, 8 }, u.shape);
        Assert.Equal(x[0, 0, 1, 2].item<float>(), u[0, 0, 3, 5].item<float>());
        using var upConv = new Upsample2D(3, useConv: true, outChannels: 2);
        Assert.Equal(new long[] { 1, 2, 6, 6 }, upConv.Forward(x, [6, 6]).shape);
    }
}
