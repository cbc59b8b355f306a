using System.Buffers;

namespace Actors.Kafka.Tests;

/// <summary>Helpers to write values to bytes and to read them back, checking every byte was read.</summary>
internal delegate void WriteAction(ref KafkaWriter writer);

internal delegate T ReadFunc<out T>(ref KafkaReader reader);

internal static class Bytes
{
    public static byte[] Write(WriteAction write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        write(ref writer);
        Assert.Equal(buffer.WrittenCount, writer.Written);
        return buffer.WrittenSpan.ToArray();
    }

    public static T Read<T>(byte[] bytes, ReadFunc<T> read)
    {
        var reader = new KafkaReader(bytes);
        var value = read(ref reader);
        reader.EnsureEnd("test value");
        return value;
    }

    public static KafkaProtocolException ReadFails<T>(byte[] bytes, ReadFunc<T> read)
    {
        return Assert.Throws<KafkaProtocolException>(() =>
        {
            var reader = new KafkaReader(bytes);
            read(ref reader);
            reader.EnsureEnd("test value");
        });
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}
