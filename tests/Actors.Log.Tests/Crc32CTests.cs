using System.Text;
using Actors.Log.Records;

namespace Actors.Log.Tests;

public class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void Known_vectors_match_on_hardware_and_table_paths(string input, uint expected)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(input);
        Assert.Equal(expected, Crc32C.Compute(bytes));
        Assert.Equal(expected, Crc32C.ComputeSoftware(bytes));
    }

    [Fact]
    public void Iscsi_test_vectors_from_rfc3720()
    {
        // RFC 3720 B.4: 32 bytes of zeros, of ones, ascending and descending.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
    }

    [Fact]
    public void Hardware_and_table_paths_agree_on_every_length_and_alignment()
    {
        const int seed = 4242;
        Console.WriteLine($"seed {seed}, hardware CRC: {Crc32C.IsHardwareAccelerated}");
        var random = new Random(seed);
        var data = new byte[4096 + 16];
        random.NextBytes(data);
        for (int start = 0; start < 9; start++)
        {
            for (int length = 0; length < 300; length++)
            {
                ReadOnlySpan<byte> span = data.AsSpan(start, length);
                Assert.Equal(Crc32C.ComputeSoftware(span), Crc32C.Compute(span));
            }
        }

        Assert.Equal(Crc32C.ComputeSoftware(data), Crc32C.Compute(data));
    }

    [Fact]
    public void Hardware_and_table_paths_agree_across_the_three_stripe_blocks_of_long_inputs()
    {
        // The x64 path runs three 1 KiB stripes side by side and joins them; lengths around every multiple of 3 KiB
        // (and random ones up to 64 KiB, at every alignment) cross those joins.
        var random = new Random(777);
        var data = new byte[(64 * 1024) + 16];
        random.NextBytes(data);
        var lengths = new List<int>();
        for (int blocks = 1; blocks <= 5; blocks++)
        {
            for (int d = -9; d <= 9; d++)
            {
                lengths.Add((blocks * 3 * 1024) + d);
            }
        }

        for (int n = 0; n < 40; n++)
        {
            lengths.Add(random.Next(3 * 1024, 64 * 1024));
        }

        foreach (int length in lengths)
        {
            int start = random.Next(0, 16);
            ReadOnlySpan<byte> span = data.AsSpan(start, length);
            Assert.Equal(Crc32C.ComputeSoftware(span), Crc32C.Compute(span));
        }
    }

    [Fact]
    public void Running_crc_over_pieces_equals_crc_of_the_whole()
    {
        byte[] data = Encoding.ASCII.GetBytes("123456789");
        uint state = Crc32C.Append(0xFFFFFFFFu, data.AsSpan(0, 4));
        state = Crc32C.Append(state, data.AsSpan(4));
        Assert.Equal(0xE3069283u, ~state);
    }
}
