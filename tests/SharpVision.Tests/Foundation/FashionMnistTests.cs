using System.IO.Compression;
using SharpVision.Nn.Data;

namespace SharpVision.Tests.Foundation;

public sealed class FashionMnistTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-idx-").FullName;

    [Fact]
    public void EmbeddedTestSplitHas10000LabelledImages()
    {
        var data = FashionMnist.EmbeddedTest();
        Assert.Equal(10_000, data.Count);
        Assert.Equal((28, 28), (data.Height, data.Width));
        // The test split is balanced: 1,000 images per class.
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, data.Labels.Count(l => l == c)));
        var t = data.ImagesTensor();
        Assert.Equal([10_000L, 1, 28, 28], t.shape);
        Assert.InRange(t.max().item<float>(), 0.99f, 1.0f);
    }

    static byte[] Idx(byte rank, int[] dims, int dataLength)
    {
        var bytes = new List<byte> { 0, 0, 8, rank };
        foreach (var d in dims) bytes.AddRange(BitConverter.GetBytes(d).Reverse());
        bytes.AddRange(new byte[dataLength]);
        return bytes.ToArray();
    }

    void WriteSplit(byte[] images, byte[] labels, bool gzip)
    {
        void Write(string name, byte[] content)
        {
            if (!gzip) { File.WriteAllBytes(Path.Combine(dir, name), content); return; }
            using var f = File.Create(Path.Combine(dir, name + ".gz"));
            using var gz = new GZipStream(f, CompressionLevel.Fastest);
            gz.Write(content);
        }
        Write("t10k-images-idx3-ubyte", images);
        Write("t10k-labels-idx1-ubyte", labels);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadsGzipAndPlainFiles(bool gzip)
    {
        WriteSplit(Idx(3, [2, 28, 28], 2 * 28 * 28), Idx(1, [2], 2), gzip);
        var data = FashionMnist.Load(dir, "test");
        Assert.Equal(2, data.Count);
    }

    [Fact]
    public void TruncatedFileIsNamedAndSaysTruncated()
    {
        WriteSplit(Idx(3, [2, 28, 28], 100), Idx(1, [2], 2), gzip: false);
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(dir, "test"));
        Assert.Contains("t10k-images-idx3-ubyte", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void MalformedMagicAndMissingFilesAreReported()
    {
        WriteSplit([1, 2, 3, 4, 5, 6, 7, 8], Idx(1, [2], 2), gzip: false);
        Assert.Contains("not an IDX file", Assert.Throws<IdxFormatException>(() => FashionMnist.Load(dir, "test")).Message);
        Assert.Contains("file not found", Assert.Throws<IdxFormatException>(() => FashionMnist.Load(dir, "train")).Message);
    }

    [Fact]
    public void ImageAndLabelCountsMustAgree()
    {
        WriteSplit(Idx(3, [2, 28, 28], 2 * 28 * 28), Idx(1, [3], 3), gzip: false);
        Assert.Contains("2 images but 3 labels", Assert.Throws<IdxFormatException>(() => FashionMnist.Load(dir, "test")).Message);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
