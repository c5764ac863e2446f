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

    [Fact]
    public void GlibcTakesTheReuseSettingsOnLinuxAndTheOtherSettingUndoesThem()
    {
        try
        {
            Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.KeepFreedBlocksForReuse());
        }
        finally
        {
            Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.ReturnLargeBlocksToTheSystem());
        }
    }
}
