using CsCheck;
using SharpVision.Diffusion.ControlNet;

namespace SharpVision.Tests.ControlNet;

public sealed class ControlScheduleTests
{
    [Theory]
    // diffusers: keep = 1 - (i/N < start or (i+1)/N > end)
    [InlineData(0.0, 1.0, 4, "1111")]
    [InlineData(0.0, 0.5, 4, "1100")]
    [InlineData(0.5, 1.0, 4, "0011")]
    [InlineData(0.2, 0.8, 10, "0011111100")]
    [InlineData(0.1, 0.6, 10, "0111110000")]
    [InlineData(0.25, 0.75, 3, "010")]
    [InlineData(0.3, 0.5, 3, "000")]
    public void MatchesDiffusersKeepList(double start, double end, int n, string expected)
    {
        var s = new ControlSchedule(start, end);
        var actual = string.Concat(Enumerable.Range(0, n).Select(i => s.IsActive(i, n) ? '1' : '0'));
        Assert.Equal(expected, actual);
        Assert.Equal(expected.Select(ch => ch == '1' ? 0.7 : 0.0), Enumerable.Range(0, n).Select(i => s.Scale(0.7, i, n)));
    }

    [Fact]
    public void ActiveStepsAreTheContiguousRunInsideTheWindow()
    {
        var gen = Gen.Select(Gen.Int[1, 60], Gen.Int[0, 99], Gen.Int[1, 100]);
        var pcg = new PCG(1, 77);
        for (int k = 0; k < 200; k++)
        {
            var (n, a, b) = gen.Generate(pcg, null, out _);
            if (a >= b) continue;
            var s = new ControlSchedule(a / 100.0, b / 100.0);
            var active = Enumerable.Range(0, n).Where(i => s.IsActive(i, n)).ToList();
            // contiguous
            if (active.Count > 0) Assert.Equal(Enumerable.Range(active[0], active.Count), active);
            // each active step lies entirely inside [start, end]; each inactive one does not
            for (int i = 0; i < n; i++)
            {
                bool inside = (double)i / n >= s.Start && (double)(i + 1) / n <= s.End;
                Assert.Equal(inside, s.IsActive(i, n));
            }
            Assert.True(active.Count <= Math.Ceiling((s.End - s.Start) * n), $"n={n} [{s.Start}, {s.End}] {active.Count} active");
        }
    }

    [Theory]
    [InlineData(0.5, 0.5, "smaller than control_guidance_end")]
    [InlineData(0.6, 0.2, "smaller than control_guidance_end")]
    [InlineData(-0.1, 0.5, "must be >= 0")]
    [InlineData(0.0, 1.5, "must be <= 1")]
    public void InvalidWindowIsRejected(double start, double end, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new ControlSchedule(start, end));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void StepOutsideTheRunIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ControlSchedule.Always.IsActive(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ControlSchedule.Always.IsActive(0, 0));
    }

    [Fact]
    public void ForEachRepeatsASingleValueAndChecksCounts()
    {
        var three = ControlSchedule.ForEach(3, [0.1], [0.9]);
        Assert.Equal(3, three.Count);
        Assert.All(three, s => Assert.Equal((0.1, 0.9), (s.Start, s.End)));
        var mixed = ControlSchedule.ForEach(2, [0.0], [0.5, 1.0]);
        Assert.Equal([0.5, 1.0], mixed.Select(s => s.End));
        var e = Assert.Throws<ArgumentException>(() => ControlSchedule.ForEach(3, [0.0, 0.1], [0.5, 1.0]));
        Assert.Contains("2 values for 3 ControlNets", e.Message);
    }
}
