using SharpVision.Nn.Memory;

namespace SharpVision.Tests.Foundation;

public sealed class NativeHeapTests
{
    [Fact]
    public void GlibcTakesTheThresholdsOnLinuxAndABadThresholdIsRejected()
    {
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.ReturnLargeBlocksToTheSystem());
        Assert.Throws<ArgumentOutOfRangeException>(() => NativeHeap.ReturnLargeBlocksToTheSystem(0));
    }
}
