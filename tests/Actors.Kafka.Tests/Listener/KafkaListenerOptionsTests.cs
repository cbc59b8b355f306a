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
            Listeners = "PLAINTEXT://127.0.0.1:9094",
            AdvertisedListeners = "SSL://broker1.example:19093,PLAINTEXT://broker1.example:19094",
        };

        var endpoints = options.Resolve("silo.example");

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9094), endpoints.Bind);
        Assert.Equal(("broker1.example", 19094), (endpoints.AdvertisedHost, endpoints.AdvertisedPort!.Value));
    }

    [Fact]
    public void Several_listeners_each_advertise_their_own_entry_or_the_silo_host_and_their_bound_port()
    {
        var all = new KafkaListenerOptions
        {
            Listeners = "SASL_PLAINTEXT://:9093,PLAINTEXT://127.0.0.1:9092",
            AdvertisedListeners = "SASL_PLAINTEXT://broker1.example:19093",
        }.ResolveAll("silo.example");

        Assert.Equal(2, all.Count);
        Assert.Equal(("SASL_PLAINTEXT", true, new IPEndPoint(IPAddress.Any, 9093), "broker1.example", (int?)19093),
            (all[0].Security.ListenerName, all[0].Security.Sasl, all[0].Bind, all[0].AdvertisedHost, all[0].AdvertisedPort));
        Assert.Equal(("PLAINTEXT", false, new IPEndPoint(IPAddress.Loopback, 9092), "silo.example", (int?)null),
            (all[1].Security.ListenerName, all[1].Security.Sasl, all[1].Bind, all[1].AdvertisedHost, all[1].AdvertisedPort));
    }

    [Theory]
    [InlineData("PLAINTEXT://:9092", "", 9092)]
    [InlineData("plaintext://0.0.0.0:0", "0.0.0.0", 0)]
    [InlineData("PLAINTEXT://[::1]:9092", "::1", 9092)]
    public void Listener_strings_parse_host_and_port(string value, string host, int port)
    {
        var (_, parsedHost, parsedPort) = Assert.Single(ListenerAddress.ParseAll(value, "listeners"));
        Assert.Equal((host, port), (parsedHost, parsedPort));
    }

    [Theory]
    [InlineData("0.0.0.0:9092", "not of the form")]
    [InlineData("PLAINTEXT://:9092,plaintext://:9093", "names the listener PLAINTEXT twice")]
    [InlineData("PLAINTEXT://:9092,EXTERNAL://:9092", "binds two listeners to port 9092")]
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
    public void A_sasl_listener_takes_its_protocol_from_its_name_or_the_map_and_checks_its_mechanisms()
    {
        var named = new KafkaListenerOptions { Listeners = "SASL_PLAINTEXT://:9093" }.Resolve("h").Security;
        var mapped = new KafkaListenerOptions
        {
            Listeners = "EXTERNAL://:9093",
            SecurityProtocolMap = "INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT",
            SaslEnabledMechanisms = "scram-sha-512, PLAIN",
        }.Resolve("h").Security;

        Assert.Equal(("SASL_PLAINTEXT", true, false), (named.Protocol, named.Sasl, named.Tls));
        Assert.Equal(["SCRAM-SHA-256", "SCRAM-SHA-512"], named.Mechanisms);
        Assert.Equal(("EXTERNAL", "SASL_PLAINTEXT"), (mapped.ListenerName, mapped.Protocol));
        Assert.Equal(["SCRAM-SHA-512", "PLAIN"], mapped.Mechanisms);
    }

    [Theory]
    [InlineData("EXTERNAL://:9093", null, null, "no security protocol")]
    [InlineData("SASL_PLAINTEXT://:9093", "GSSAPI", null, "sasl.enabled.mechanisms")]
    [InlineData("SSL://:9093", null, null, "set ssl.keystore.location")]
    [InlineData("SASL_SSL://:9093", null, "/nonexistent/listener.pem", "does not exist")]
    public void A_bad_security_setting_is_refused_naming_it(string listeners, string? mechanisms, string? keystore, string problem)
    {
        var options = new KafkaListenerOptions { Listeners = listeners, SslKeystoreLocation = keystore };
        if (mechanisms is not null)
        {
            options.SaslEnabledMechanisms = mechanisms;
        }

        Assert.Contains(problem, Assert.Throws<ArgumentException>(() => options.Resolve("h")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_range_numbers_are_refused_naming_the_setting()
    {
        Assert.Contains("Actors:Kafka:Port", Assert.Throws<ArgumentException>(() => new KafkaListenerOptions { Port = 70000 }.Resolve("h")).Message, StringComparison.Ordinal);
        Assert.Contains("MaxInFlightRequestsPerConnection", Assert.Throws<ArgumentException>(() => new KafkaListenerOptions { MaxInFlightRequestsPerConnection = 0 }.Resolve("h")).Message, StringComparison.Ordinal);
        Assert.Contains("BindAddress", Assert.Throws<ArgumentException>(() => new KafkaListenerOptions { BindAddress = "any" }.Resolve("h")).Message, StringComparison.Ordinal);
    }
}
