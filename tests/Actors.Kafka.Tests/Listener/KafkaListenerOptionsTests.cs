using System.Net;
using Actors.Kafka.Listener;

namespace Actors.Kafka.Tests.Listener;

public class KafkaListenerOptionsTests
{
    [Fact]
    public void Defaults_bind_every_interface_on_9092_and_advertise_the_silo_host()
    {
        var endpoints = new KafkaListenerOptions().Resolve("silo.example");

        Assert.Equal(new IPEndPoint(IPAddress.Any, 9092), endpoints.Bind);
        Assert.Equal("silo.example", endpoints.AdvertisedHost);
        Assert.Null(endpoints.AdvertisedPort);
    }

    [Fact]
    public void Kafka_listener_strings_win_over_the_option_names()
    {
        var options = new KafkaListenerOptions
        {
            Port = 1,
            AdvertisedHost = "ignored",
            Listeners = "SSL://:9093, PLAINTEXT://127.0.0.1:9094",
            AdvertisedListeners = "PLAINTEXT://broker1.example:19094",
        };

        var endpoints = options.Resolve("silo.example");

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9094), endpoints.Bind);
        Assert.Equal(("broker1.example", 19094), (endpoints.AdvertisedHost, endpoints.AdvertisedPort!.Value));
    }

    [Theory]
    [InlineData("PLAINTEXT://:9092", "", 9092)]
    [InlineData("plaintext://0.0.0.0:0", "0.0.0.0", 0)]
    [InlineData("PLAINTEXT://[::1]:9092", "::1", 9092)]
    public void Listener_strings_parse_host_and_port(string value, string host, int port)
    {
        Assert.Equal((host, port), ListenerAddress.Parse(value, "listeners"));
    }

    [Theory]
    [InlineData("0.0.0.0:9092", "not of the form")]
    [InlineData("SSL://:9093", "no PLAINTEXT listener")]
    [InlineData("PLAINTEXT://host", "needs a port")]
    [InlineData("PLAINTEXT://host:70000", "needs a port")]
    [InlineData("PLAINTEXT://::1:9092", "without brackets")]
    public void A_malformed_listener_string_is_refused_naming_the_setting(string value, string problem)
    {
        var error = Assert.Throws<ArgumentException>(() => new KafkaListenerOptions { Listeners = value }.Resolve("h"));

        Assert.Contains("listeners (Actors:Kafka:Listeners)", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_range_numbers_are_refused_naming_the_setting()
    {
        Assert.Contains("Actors:Kafka:Port", Assert.Throws<ArgumentException>(() => new KafkaListenerOptions { Port = 70000 }.Resolve("h")).Message, StringComparison.Ordinal);
        Assert.Contains("MaxInFlightRequestsPerConnection", Assert.Throws<ArgumentException>(() => new KafkaListenerOptions { MaxInFlightRequestsPerConnection = 0 }.Resolve("h")).Message, StringComparison.Ordinal);
        Assert.Contains("BindAddress", Assert.Throws<ArgumentException>(() => new KafkaListenerOptions { BindAddress = "any" }.Resolve("h")).Message, StringComparison.Ordinal);
    }
}
