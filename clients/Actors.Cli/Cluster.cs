using Confluent.Kafka;

namespace Actors.Cli;

/// <summary>How a command reaches the cluster: the bootstrap servers, extra client properties, and a short
/// deadline for the first answer so an unreachable cluster is reported within seconds.</summary>
internal sealed class Cluster(string bootstrapServers, IReadOnlyDictionary<string, string> properties, CliIo io)
{
    /// <summary>How long the first metadata request may take before the cluster is called unreachable.</summary>
    public static readonly TimeSpan ReachTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long one admin request may take.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public string BootstrapServers { get; } = bootstrapServers;

    public CliIo Io { get; } = io;

    public T Configure<T>(T config)
        where T : ClientConfig
    {
        ArgumentNullException.ThrowIfNull(config);
        config.BootstrapServers = BootstrapServers;
        config.ClientId ??= "actors-cli";
        config.SocketConnectionSetupTimeoutMs ??= (int)ReachTimeout.TotalMilliseconds;
        foreach (var (key, value) in properties)
        {
            config.Set(key, value);
        }

        return config;
    }

    public IAdminClient Admin() =>
        new AdminClientBuilder(Configure(new AdminClientConfig()))
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, _) => { })
            .Build();

    /// <summary>The cluster's metadata (brokers and topics), or a <see cref="CliException"/> naming the bootstrap
    /// servers when no broker answers within <see cref="ReachTimeout"/>.</summary>
    /// <remarks>A broker can drop a connection while the cluster notices a silo gone (the request could not be served:
    /// the client is to ask again, maybe another broker), and librdkafka's metadata call gives up on the first such
    /// failure; so it is asked again, after a short pause, until <see cref="ReachTimeout"/> is spent.</remarks>
    public Metadata Metadata(IAdminClient admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var remaining = ReachTimeout - clock.Elapsed;
                return admin.GetMetadata(remaining > TimeSpan.FromMilliseconds(100) ? remaining : TimeSpan.FromMilliseconds(100));
            }
            catch (KafkaException e)
            {
                if (ReachTimeout - clock.Elapsed < TimeSpan.FromMilliseconds(300))
                {
                    throw Unreachable(e);
                }

                Thread.Sleep(200);
            }
        }
    }

    public CliException Unreachable(KafkaException e) =>
        new($"Cannot reach the cluster at {BootstrapServers} within {ReachTimeout.TotalSeconds:0} s ({e.Error.Reason}). Start a silo there, or pass --bootstrap-server host:port of a running broker.");

    /// <summary>The partitions of <paramref name="topic"/>, or an error naming how to create it.</summary>
    public static TopicMetadata Topic(Metadata metadata, string topic)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        if (found is null || found.Error.Code == ErrorCode.UnknownTopicOrPart)
        {
            throw new CliException(Errors.UnknownTopic(topic));
        }

        return found;
    }
}

/// <summary>Kafka-style <c>key=value</c> properties from flags and files.</summary>
internal static class Properties
{
    public static Dictionary<string, string> Parse(IEnumerable<string>? pairs, string flag)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"{flag} '{pair}' is not key=value. Write it as {flag} name=value.", ExitCodes.Usage);
            }

            result[pair[..equals].Trim()] = pair[(equals + 1)..].Trim();
        }

        return result;
    }

    /// <summary>A Java-style properties file (<c>key=value</c> lines, <c>#</c> and <c>!</c> comments).</summary>
    public static Dictionary<string, string> File(string? path, string flag)
    {
        if (path is null)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        if (!System.IO.File.Exists(path))
        {
            throw new CliException($"{flag} file '{path}' does not exist. Pass the path of a key=value properties file.", ExitCodes.Usage);
        }

        var lines = System.IO.File.ReadAllLines(path)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && l[0] is not '#' and not '!');
        return Parse(lines, flag);
    }

    public static Dictionary<string, string> Merge(params Dictionary<string, string>[] sources)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            foreach (var (key, value) in source)
            {
                result[key] = value;
            }
        }

        return result;
    }
}
