using Confluent.Kafka;

namespace Actors.Client;

/// <summary>The serializers and deserializers a builder uses when none is set: Confluent's own for the types it
/// serializes by default (string as UTF-8, byte[], Null, Ignore, int, long, float, double).</summary>
internal static class Serdes
{
    public static ISerializer<T>? DefaultSerializer<T>()
    {
        object? s = typeof(T) switch
        {
            var t when t == typeof(string) => Serializers.Utf8,
            var t when t == typeof(byte[]) => Serializers.ByteArray,
            var t when t == typeof(Null) => Serializers.Null,
            var t when t == typeof(int) => Serializers.Int32,
            var t when t == typeof(long) => Serializers.Int64,
            var t when t == typeof(float) => Serializers.Single,
            var t when t == typeof(double) => Serializers.Double,
            _ => null,
        };
        return (ISerializer<T>?)s;
    }

    public static IDeserializer<T>? DefaultDeserializer<T>()
    {
        object? d = typeof(T) switch
        {
            var t when t == typeof(string) => Deserializers.Utf8,
            var t when t == typeof(byte[]) => Deserializers.ByteArray,
            var t when t == typeof(Null) => Deserializers.Null,
            var t when t == typeof(Ignore) => Deserializers.Ignore,
            var t when t == typeof(int) => Deserializers.Int32,
            var t when t == typeof(long) => Deserializers.Int64,
            var t when t == typeof(float) => Deserializers.Single,
            var t when t == typeof(double) => Deserializers.Double,
            _ => null,
        };
        return (IDeserializer<T>?)d;
    }
}
