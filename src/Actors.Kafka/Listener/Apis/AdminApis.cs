using System.Globalization;
using Actors.Broker;
using Actors.Broker.Topics;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;
using Microsoft.Extensions.Logging;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// CreateTopics, DeleteTopics and CreatePartitions: topic administration, through the controller grain. Each topic of
/// a request gets its own answer; a refusal carries the controller's error code and message.
/// </summary>
/// <remarks>
/// Replicas are always assigned by the controller: a manual assignment is answered INVALID_REQUEST. The controller
/// has no validate-only path for CreatePartitions, so a validate-only CreatePartitions checks here what can be checked
/// without it (the topic exists, the count grows it and stays within Actors:Broker:MaxPartitionsPerTopic, enough
/// silos are Active for its replication factor) and changes nothing. A request's timeout_ms bounds how long the
/// answer waits for the controller (REQUEST_TIMED_OUT after it; the change may still happen).
/// </remarks>
internal sealed partial class AdminApis(KafkaBroker broker)
{
    private const string ManualAssignmentRefused =
        "Manual replica assignment is not supported: give the partition count (and the replication factor), or -1 for the broker defaults, and the controller assigns replicas.";

    public async Task<byte[]?> CreateTopicsAsync(KafkaRequest request)
    {
        var asked = request.Read<CreateTopicsRequestData>();
        // CREATE on the cluster creates any topic; otherwise CREATE on each topic, as Kafka.
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var anyTopic = access.AllowsCluster(AclOperation.Create, logDenied: false);
        var duplicates = Duplicates(asked.Topics.Select(t => t.Name));
        var results = new List<CreateTopicsResponseData.CreatableTopicResult>(asked.Topics.Count);
        var created = false;
        foreach (var topic in asked.Topics.DistinctBy(t => t.Name, StringComparer.Ordinal))
        {
            var result = duplicates.Contains(topic.Name)
                ? TopicError(topic.Name, ErrorCode.InvalidRequest, $"Topic '{topic.Name}' is named more than once in the request.")
                : !anyTopic && !access.AllowsTopic(AclOperation.Create, topic.Name)
                    ? TopicError(topic.Name, ErrorCode.TopicAuthorizationFailed, $"{access.Principal} may not CREATE topic '{topic.Name}'.")
                : await CreateTopicAsync(topic, asked.ValidateOnly, asked.TimeoutMs).ConfigureAwait(false);
            created |= result.ErrorCode == 0 && !asked.ValidateOnly;
            results.Add(result);
        }

        if (created)
        {
            await RefreshClusterViewAsync().ConfigureAwait(false);
        }

        return request.Respond(new CreateTopicsResponseData { Topics = results });
    }

    public async Task<byte[]?> DeleteTopicsAsync(KafkaRequest request)
    {
        var asked = request.Read<DeleteTopicsRequestData>();
        var wanted = request.Version >= 6
            ? asked.Topics.Select(t => (t.Name, t.TopicId)).ToList()
            : asked.TopicNames.Select(n => ((string?)n, Guid.Empty)).ToList();
        var duplicates = Duplicates(wanted.Where(t => t.Item1 is not null).Select(t => t.Item1!));
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var cluster = access.Enabled && wanted.Any(t => t.Item1 is null) ? await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false) : null;
        var results = new List<DeleteTopicsResponseData.DeletableTopicResult>(wanted.Count);
        var deleted = false;
        foreach (var (name, id) in wanted.Distinct())
        {
            var result = name is not null && duplicates.Contains(name)
                ? new DeleteTopicsResponseData.DeletableTopicResult
                {
                    Name = name,
                    ErrorCode = (short)ErrorCode.InvalidRequest,
                    ErrorMessage = $"Topic '{name}' is named more than once in the request.",
                }
                : Refused(name ?? cluster?.TopicById(id)?.Name) is { } refused
                    ? new DeleteTopicsResponseData.DeletableTopicResult
                    {
                        Name = name,
                        TopicId = id,
                        ErrorCode = (short)ErrorCode.TopicAuthorizationFailed,
                        ErrorMessage = $"{access.Principal} may not DELETE topic '{refused}'.",
                    }
                : await DeleteTopicAsync(name, id, request.Version, asked.TimeoutMs).ConfigureAwait(false);
            deleted |= result.ErrorCode == 0;
            results.Add(result);
        }

        if (deleted)
        {
            await RefreshClusterViewAsync().ConfigureAwait(false);
        }

        return request.Respond(new DeleteTopicsResponseData { Responses = results });

        // The name refused, or null when DELETE is allowed (a topic id no topic has is left to the controller to refuse).
        string? Refused(string? topic) =>
            !access.Enabled ? null
            : topic is null ? (access.AllowsTopic(AclOperation.Delete, Acls.WildcardResource) ? null : "(unknown id)")
            : access.AllowsTopic(AclOperation.Delete, topic) ? null : topic;
    }

    public async Task<byte[]?> CreatePartitionsAsync(KafkaRequest request)
    {
        var asked = request.Read<CreatePartitionsRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var duplicates = Duplicates(asked.Topics.Select(t => t.Name));
        var results = new List<CreatePartitionsResponseData.CreatePartitionsTopicResult>(asked.Topics.Count);
        var grown = false;
        foreach (var topic in asked.Topics.DistinctBy(t => t.Name, StringComparer.Ordinal))
        {
            var (code, message) = duplicates.Contains(topic.Name)
                ? (ErrorCode.InvalidRequest, $"Topic '{topic.Name}' is named more than once in the request.")
                : !access.AllowsTopic(AclOperation.Alter, topic.Name)
                    ? (ErrorCode.TopicAuthorizationFailed, $"{access.Principal} may not ALTER topic '{topic.Name}'.")
                : topic.Assignments is { Count: > 0 }
                    ? (ErrorCode.InvalidRequest, ManualAssignmentRefused)
                    : await GrowAsync(topic.Name, topic.Count, asked.ValidateOnly, asked.TimeoutMs).ConfigureAwait(false);
            grown |= code == ErrorCode.None && !asked.ValidateOnly;
            results.Add(new CreatePartitionsResponseData.CreatePartitionsTopicResult
            {
                Name = topic.Name,
                ErrorCode = (short)code,
                ErrorMessage = message,
            });
        }

        if (grown)
        {
            await RefreshClusterViewAsync().ConfigureAwait(false);
        }

        return request.Respond(new CreatePartitionsResponseData { Results = results });
    }

    /// <summary>The message of a refusal without the "[KAFKA_NAME] " prefix <see cref="BrokerException"/> adds.</summary>
    internal static string Message(Exception e)
    {
        var message = e.Message;
        if (e is BrokerException && message.StartsWith('[') && message.IndexOf("] ", StringComparison.Ordinal) is var end and > 0)
        {
            return message[(end + 2)..];
        }

        return message;
    }

    /// <summary>The Kafka error of a failed call: a broker refusal's own code, REQUEST_TIMED_OUT for a timeout,
    /// UNKNOWN_SERVER_ERROR (logged) for anything else.</summary>
    internal static (ErrorCode Code, string Message) Failure(Exception e, KafkaBroker broker, string what) => e switch
    {
        BrokerException b => (b.Code, Message(b)),
        TimeoutException => (ErrorCode.RequestTimedOut, $"{what} did not finish in time; it may still complete ({e.Message})."),
        _ => Unexpected(e, broker, what),
    };

    /// <summary>Names that occur more than once.</summary>
    internal static HashSet<string> Duplicates(IEnumerable<string> names) =>
        names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary><paramref name="call"/>, given up after <paramref name="timeoutMs"/> when positive.</summary>
    internal static Task<T> Within<T>(Task<T> call, int timeoutMs, TimeProvider time) =>
        timeoutMs > 0 ? call.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs), time) : call;

    private static (ErrorCode, string) Unexpected(Exception e, KafkaBroker broker, string what)
    {
        LogUnexpected(broker.Logger, what, e);
        return (ErrorCode.UnknownServerError, $"{what} failed: {e.GetType().Name}: {e.Message}");
    }

    private static CreateTopicsResponseData.CreatableTopicResult TopicError(string name, ErrorCode code, string message) => new()
    {
        Name = name,
        ErrorCode = (short)code,
        ErrorMessage = message,
        Configs = null,
    };

    private async Task<CreateTopicsResponseData.CreatableTopicResult> CreateTopicAsync(
        CreateTopicsRequestData.CreatableTopic topic, bool validateOnly, int timeoutMs)
    {
        if (topic.Assignments.Count > 0)
        {
            return TopicError(topic.Name, ErrorCode.InvalidRequest, ManualAssignmentRefused);
        }

        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var config in topic.Configs)
        {
            if (config.Value is null)
            {
                return TopicError(topic.Name, ErrorCode.InvalidConfig, $"Null value not supported for topic config '{config.Name}'.");
            }

            configs[config.Name] = config.Value;
        }

        try
        {
            var description = await Within(broker.Controller.CreateTopicAsync(new CreateTopicRequest
            {
                Name = topic.Name,
                NumPartitions = topic.NumPartitions,
                ReplicationFactor = topic.ReplicationFactor,
                Configs = configs,
                ValidateOnly = validateOnly,
            }), timeoutMs, broker.Time).ConfigureAwait(false);
            return new CreateTopicsResponseData.CreatableTopicResult
            {
                Name = topic.Name,
                TopicId = validateOnly ? Guid.Empty : description.TopicId,
                ErrorMessage = null,
                NumPartitions = description.Partitions.Length,
                ReplicationFactor = (short)description.ReplicationFactor,
                Configs = ConfigCatalog.TopicConfigs(description, broker.BrokerSettings)
                    .Select(c => new CreateTopicsResponseData.CreatableTopicConfigs
                    {
                        Name = c.Name,
                        Value = c.Value,
                        ReadOnly = c.ReadOnly,
                        ConfigSource = (sbyte)c.Source,
                        IsSensitive = false,
                    }).ToList(),
            };
        }
        catch (Exception e)
        {
            var (code, message) = Failure(e, broker, $"Creating topic '{topic.Name}'");
            return TopicError(topic.Name, code, message);
        }
    }

    private async Task<DeleteTopicsResponseData.DeletableTopicResult> DeleteTopicAsync(string? name, Guid id, short version, int timeoutMs)
    {
        var result = new DeleteTopicsResponseData.DeletableTopicResult { Name = name, TopicId = id };
        try
        {
            if (name is not null && id != Guid.Empty)
            {
                return Refused(result, ErrorCode.InvalidRequest, "Give a topic's name or its id, not both.");
            }

            if (name is null)
            {
                if (id == Guid.Empty)
                {
                    return Refused(result, ErrorCode.InvalidRequest, "Give a topic's name or its id.");
                }

                name = await NameOfAsync(id).ConfigureAwait(false);
                if (name is null)
                {
                    return Refused(result, ErrorCode.UnknownTopicId, $"No topic has id {id}.");
                }

                result.Name = name;
            }

            if (version >= 6)
            {
                // The id is answered (and, deleting by id, checked: the name may have been reused since).
                var description = (await broker.Controller.DescribeTopicsAsync([name]).ConfigureAwait(false))[0];
                if (id != Guid.Empty && description.TopicId != id)
                {
                    return Refused(result, ErrorCode.UnknownTopicId, $"No topic has id {id}.");
                }

                result.TopicId = description.TopicId;
            }

            await Within(DeleteAsync(name), timeoutMs, broker.Time).ConfigureAwait(false);
            return result;
        }
        catch (BrokerException e) when (e.Code == ErrorCode.UnknownTopicOrPartition && id != Guid.Empty)
        {
            return Refused(result, ErrorCode.UnknownTopicId, $"No topic has id {id}.");
        }
        catch (Exception e)
        {
            var (code, message) = Failure(e, broker, $"Deleting topic '{name ?? id.ToString()}'");
            return Refused(result, code, message);
        }

        static DeleteTopicsResponseData.DeletableTopicResult Refused(DeleteTopicsResponseData.DeletableTopicResult result, ErrorCode code, string message)
        {
            result.ErrorCode = (short)code;
            result.ErrorMessage = message;
            return result;
        }
    }

    private async Task<bool> DeleteAsync(string name)
    {
        await broker.Controller.DeleteTopicAsync(name).ConfigureAwait(false);
        return true;
    }

    /// <summary>The name of the topic with <paramref name="id"/>: from the cached cluster view, fetched again when it
    /// does not know the id.</summary>
    private async Task<string?> NameOfAsync(Guid id)
    {
        var snapshot = await broker.Cluster.GetAsync().ConfigureAwait(false);
        var topic = snapshot.Topics.FirstOrDefault(t => t.TopicId == id);
        if (topic is null)
        {
            snapshot = await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false);
            topic = snapshot.Topics.FirstOrDefault(t => t.TopicId == id);
        }

        return topic?.Name;
    }

    private async Task<(ErrorCode, string?)> GrowAsync(string name, int count, bool validateOnly, int timeoutMs)
    {
        try
        {
            if (validateOnly)
            {
                return await ValidateGrowAsync(name, count).ConfigureAwait(false);
            }

            await Within(broker.Controller.CreatePartitionsAsync(name, count), timeoutMs, broker.Time).ConfigureAwait(false);
            return (ErrorCode.None, null);
        }
        catch (Exception e)
        {
            return Failure(e, broker, $"Adding partitions to topic '{name}'");
        }
    }

    /// <summary>What the controller would check, checked here, changing nothing.</summary>
    private async Task<(ErrorCode, string?)> ValidateGrowAsync(string name, int count)
    {
        var description = (await broker.Controller.DescribeTopicsAsync([name]).ConfigureAwait(false))[0];
        var current = description.Partitions.Length;
        if (count <= current)
        {
            return (ErrorCode.InvalidPartitions,
                $"Topic '{name}' has {current} partitions; the new count {count} must be larger (partitions are never removed).");
        }

        var limit = broker.BrokerSettings.MaxPartitionsPerTopic;
        if (count > limit)
        {
            return (ErrorCode.InvalidPartitions,
                $"{count} partitions for topic '{name}' exceeds the limit of {limit} (Actors:Broker:MaxPartitionsPerTopic).");
        }

        var snapshot = await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false);
        var rf = description.ReplicationFactor;
        if (rf > snapshot.Active.Count)
        {
            return (ErrorCode.InvalidReplicationFactor,
                $"Topic '{name}' has replication factor {rf} but only {snapshot.Active.Count.ToString(CultureInfo.InvariantCulture)} silos are Active.");
        }

        return (ErrorCode.None, null);
    }

    private async Task RefreshClusterViewAsync()
    {
        try
        {
            await broker.Cluster.GetAsync(fresh: true).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The view is fetched again on next use; the change itself is done.
            LogRefreshFailed(broker.Logger, e.Message);
        }
    }

    [LoggerMessage(EventId = 7401, Level = LogLevel.Warning, Message = "{What} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string what, Exception exception);

    [LoggerMessage(EventId = 7402, Level = LogLevel.Debug, Message = "Refreshing the cluster view after a topic change failed: {Problem}")]
    private static partial void LogRefreshFailed(ILogger logger, string problem);
}
