using System.Buffers;
using Actors.Serialization;

namespace Actors.Runtime.Tests.Serialization;

public sealed class ExceptionCodecTests
{
    private static Exception Thrown(Func<Exception> create)
    {
        try
        {
            throw create();
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static byte[] WithTypeName(string typeName, string message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(buffer);
        writer.WriteFieldHeader(0, WireType.TagDelimited);
        StringCodec.WriteField(ref writer, 1, typeName);
        StringCodec.WriteField(ref writer, 2, message);
        StringCodec.WriteField(ref writer, 3, "   at Remote.Place()");
        writer.WriteEndObject();
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void A_known_exception_type_keeps_its_type_message_and_stack_trace()
    {
        var original = Thrown(() => new InvalidOperationException("the grain is confused"));
        var back = ActorSerializer.Deserialize<Exception>(ActorSerializer.SerializeToArray(original));
        var typed = Assert.IsType<InvalidOperationException>(back);
        Assert.Equal("the grain is confused", typed.Message);
        Assert.Contains(nameof(Thrown), typed.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public void Exceptions_of_this_project_and_inner_exceptions_round_trip()
    {
        var original = new InconsistentStateException("etag moved", new TimeoutException("inner"));
        var back = Assert.IsType<InconsistentStateException>(ActorSerializer.Deserialize<Exception>(ActorSerializer.SerializeToArray<Exception>(original)));
        Assert.Equal("etag moved", back.Message);
        var inner = Assert.IsType<TimeoutException>(back.InnerException);
        Assert.Equal("inner", inner.Message);

        var declared = ActorSerializer.Deserialize<InconsistentStateException>(ActorSerializer.SerializeToArray(original));
        Assert.Equal("etag moved", declared.Message);
    }

    [Fact]
    public void An_unknown_exception_type_becomes_a_remote_grain_exception()
    {
        var back = ActorSerializer.Deserialize<Exception>(WithTypeName("Somewhere.Else.QuotaExceededException", "over quota"));
        var remote = Assert.IsType<RemoteGrainException>(back);
        Assert.Equal("Somewhere.Else.QuotaExceededException", remote.RemoteTypeName);
        Assert.Equal("over quota", remote.Message);
        Assert.Equal("   at Remote.Place()", remote.RemoteStackTrace);

        // Forwarded again, it keeps the original type name, so a caller that knows the type gets it.
        var again = Assert.IsType<RemoteGrainException>(ActorSerializer.Deserialize<Exception>(ActorSerializer.SerializeToArray<Exception>(remote)));
        Assert.Equal("Somewhere.Else.QuotaExceededException", again.RemoteTypeName);
    }

    [Fact]
    public void A_type_name_that_is_not_an_exception_is_not_instantiated()
    {
        var back = ActorSerializer.Deserialize<Exception>(WithTypeName(typeof(System.Text.StringBuilder).FullName!, "not an exception"));
        var remote = Assert.IsType<RemoteGrainException>(back);
        Assert.Equal("System.Text.StringBuilder", remote.RemoteTypeName);
    }

    [Fact]
    public void A_field_declared_as_a_specific_exception_rejects_another_type()
    {
        var bytes = ActorSerializer.SerializeToArray<Exception>(new ArgumentException("arg"));
        var error = Assert.Throws<SerializationException>(() => ActorSerializer.Deserialize<TimeoutException>(bytes));
        Assert.Contains("ArgumentException", error.Message, StringComparison.Ordinal);
    }
}
